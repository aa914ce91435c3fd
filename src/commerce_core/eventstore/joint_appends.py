"""Appends made side by side, stored by one ``append_many`` (the webhook worker's batch).

The commands of a batch run concurrently and each ends in its own append. ``append``
queues a command's append and waits for its answer; one flush at a time stores all the
queued ones with one ``append_many`` (one statement, one commit), and the appends queued
meanwhile go with the next flush. Alone, an append is stored at once by ``append``.

``append_many`` is atomic: when it refuses (one command lost a race, or was stored
already), each append of that flush is made again alone, side by side, so that each
command gets its own answer: the one that lost its race gets its ``ConcurrencyError``
(and retries on fresh state), a retried one its no-op, and the others are stored. A
flush runs in a task of its own, so a command that goes away never leaves the others
of its flush waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from commerce_core.eventstore.ports import EventStore
from commerce_core.eventstore.records import AppendStream, EventMetadata, RecordedEvent

_Queued = tuple[Sequence[AppendStream], EventMetadata, "asyncio.Future[list[RecordedEvent]]"]


class JointAppends:
    """``append`` as the store's, stored together with the appends made beside it."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._queue: list[_Queued] = []
        self._flush: asyncio.Task[None] | None = None

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        answer: asyncio.Future[list[RecordedEvent]] = asyncio.get_running_loop().create_future()
        self._queue.append((streams, metadata, answer))
        self._start_flush()
        return await answer

    def _start_flush(self) -> None:
        if self._queue and self._flush is None:
            self._flush = asyncio.create_task(self._store_queued())
            self._flush.add_done_callback(self._flushed)

    def _flushed(self, _: asyncio.Task[None]) -> None:
        self._flush = None
        self._start_flush()

    async def _store_queued(self) -> None:
        batch, self._queue = self._queue, []
        if len(batch) > 1:
            try:
                recorded = await self._store.append_many([(s, m) for s, m, _ in batch])
            except Exception:
                pass
            else:
                for (_, _, answer), events in zip(batch, recorded, strict=True):
                    _answer(answer, events, None)
                return
        await asyncio.gather(*(self._alone(queued) for queued in batch))

    async def _alone(self, queued: _Queued) -> None:
        streams, metadata, answer = queued
        try:
            events = await self._store.append(streams, metadata)
        except Exception as error:
            _answer(answer, [], error)
        else:
            _answer(answer, events, None)


def _answer(
    answer: asyncio.Future[list[RecordedEvent]],
    events: list[RecordedEvent],
    error: Exception | None,
) -> None:
    if answer.done():  # its command was cancelled
        return
    if error is None:
        answer.set_result(events)
    else:
        answer.set_exception(error)
