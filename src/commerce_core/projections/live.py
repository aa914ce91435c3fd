"""Live events in batches: whatever ``EventStore.subscribe`` has delivered, at once."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from commerce_core.eventstore import EventStore, Position, RecordedEvent


class LiveBatches:
    """Pumps a subscription into a bounded queue; ``next`` takes all that is waiting.

    A projection applies one transaction per batch, so under load batches grow
    (up to ``max_size``) while a transaction is in flight, and a quiet stream
    still gets each event applied as soon as it arrives.
    """

    def __init__(self, store: EventStore, after: Position, max_size: int) -> None:
        self._store = store
        self._after = after
        self._max_size = max_size
        self._queue: asyncio.Queue[RecordedEvent | Exception] = asyncio.Queue(max_size)
        self._error: Exception | None = None
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LiveBatches:
        self._pump = asyncio.create_task(self._run(), name="projection-subscription")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump

    async def _run(self) -> None:
        events = self._store.subscribe(self._after, self._max_size)
        try:
            async for event in events:
                await self._queue.put(event)
        except Exception as error:  # handed to the consumer by next()
            await self._queue.put(error)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    async def next(self) -> list[RecordedEvent]:
        """The events waiting now, after waiting for at least one."""
        if self._error is not None:
            raise self._error
        item = await self._queue.get()
        batch: list[RecordedEvent] = []
        while True:
            if isinstance(item, Exception):
                self._error = item
                break
            batch.append(item)
            if len(batch) >= self._max_size or self._queue.empty():
                break
            item = self._queue.get_nowait()
        if not batch and self._error is not None:
            raise self._error
        return batch
