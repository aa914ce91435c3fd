"""One read and one decode of the log for every projection catching up at the same place.

Projections of one runner that catch up together would each read and decode
the whole history (ADR 0048). Here a batch read for one of them is kept for the
others: a projection asking for the events after a position gets the batch that
starts there, or the rest of a batch that holds that position, and each event of
a batch is decoded at most once, whichever projections want it. A projection
that runs ahead of one catching up close behind it waits (``hold`` events
ahead at most), so they stay together and their batches are shared; one further
behind than ``reach`` holds nobody up and reads alone until it comes close. The
reads are the store's ``read_all``: what a projection gets is what it would
have read itself, so checkpoints, quarantine and locks are untouched by sharing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from uuid import UUID

from commerce_core.eventstore import EventStore, Position, RecordedEvent

Decode = Callable[[RecordedEvent], object]


class _Failed:
    """An event that did not decode: every projection that wants it gets the error."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class Decodes:
    """Each event decoded once, on first demand (the projections that want none skip it).

    With ``keep`` false (a single projection decodes) nothing is kept: each event
    is decoded as it is asked for, and dropped once handled rather than living,
    and being scanned by the cyclic collector, as long as its batch.
    """

    def __init__(self, decode: Decode, *, keep: bool = True) -> None:
        self._decode = decode
        self._keep = keep
        self._done: dict[UUID, object] = {}

    def __call__(self, event: RecordedEvent) -> object:
        if not self._keep:
            return self._decode(event)
        done = self._done.get(event.event_id)
        if done is None:
            try:
                done = self._decode(event)
            except Exception as error:
                done = _Failed(error)
            self._done[event.event_id] = done
        if isinstance(done, _Failed):
            raise done.error.with_traceback(None)
        return done


@dataclass(frozen=True)
class SharedBatch:
    """Events in the log's order, with the decoder they share with other projections."""

    events: Sequence[RecordedEvent]
    decoded: Decodes


def own_batch(events: Sequence[RecordedEvent], decode: Decode) -> SharedBatch:
    """A batch nobody shares (live events, one event applied again)."""
    return SharedBatch(events, Decodes(decode))


@dataclass
class _Entry:
    start: Position
    reading: asyncio.Future[list[RecordedEvent]]
    decodes: Decodes

    def holds(self, after: Position) -> bool:
        """Whether the events after ``after`` start inside this batch (a failed read: no)."""
        reading = self.reading
        if not reading.done():
            return after == self.start
        if reading.cancelled() or reading.exception() is not None:
            return False
        if after == self.start:
            return True
        events = reading.result()
        return bool(events) and self.start < after < events[-1].position

    def behind(self, position: Position) -> bool:
        """Whether the whole batch lies at or before ``position``."""
        if not self.reading.done():
            return False
        if self.reading.cancelled() or self.reading.exception() is not None:
            return True
        events = self.reading.result()
        return not events or events[-1].position <= position


class SharedReads:
    """Batches of ``read_all`` shared by the members (projections) catching up together."""

    def __init__(
        self,
        store: EventStore,
        size: int,
        decode: Decode,
        *,
        hold: int = 2,
        reach: int = 8,
        keep: bool = True,
    ) -> None:
        self._store = store
        self._size = size
        self._decode = decode
        self._keep = keep  # keep decoded events for other members: more than one decodes
        self._hold = hold * size
        self._reach = reach * size
        self._fronts: dict[Hashable, Position | None] = {}  # None: joining, place unknown
        self._entries: list[_Entry] = []
        self._moved = asyncio.Event()
        self.reads = 0  # how many reads went to the store (tests, benchmarks)

    def expect(self, member: Hashable) -> None:
        """``member`` is about to join (reading its checkpoint): nobody reads until it has.

        Projections started together thus start together, whichever is prepared first;
        one that fails on the way leaves, and holds nobody up while it waits to retry.
        """
        self._fronts[member] = None

    def join(self, member: Hashable, after: Position) -> None:
        self._fronts[member] = after
        self._wake()

    def leave(self, member: Hashable) -> None:
        self._fronts.pop(member, None)
        self._trim()
        self._wake()

    async def read(self, member: Hashable, after: Position) -> SharedBatch:
        """The batch after ``after``: shared if another member read it, else read now."""
        self._fronts[member] = after
        self._wake()
        await self._keep_close(member, after)
        entry = next((e for e in self._entries if e.holds(after)), None)
        if entry is None:
            entry = self._start(after)
        events = await asyncio.shield(entry.reading)
        if entry.start != after:
            events = [e for e in events if e.position > after]
        self._trim()
        return SharedBatch(events, entry.decodes)

    def _start(self, after: Position) -> _Entry:
        self.reads += 1
        reading = asyncio.ensure_future(self._store.read_all(after, self._size))
        reading.add_done_callback(_observe)
        entry = _Entry(after, reading, Decodes(self._decode, keep=self._keep))
        self._entries.append(entry)
        self._entries.sort(key=lambda e: e.start)
        return entry

    async def _keep_close(self, member: Hashable, after: Position) -> None:
        """Waits while a member is joining, or one close behind is more than ``hold`` behind."""
        while any(
            front is None
            or self._hold < after.global_position - front.global_position <= self._reach
            for other, front in self._fronts.items()
            if other != member
        ):
            moved = self._moved
            await moved.wait()

    def _trim(self) -> None:
        """Drops batches every member is past, and the oldest beyond what the window needs."""
        fronts = [front for front in self._fronts.values() if front is not None]
        if fronts:
            slowest = min(fronts)
            self._entries = [e for e in self._entries if not e.behind(slowest)]
        else:
            self._entries = [e for e in self._entries if not e.reading.done()]
        room = self._reach // self._size + 2
        if len(self._entries) > room:
            self._entries = self._entries[-room:]

    def _wake(self) -> None:
        self._moved.set()
        self._moved = asyncio.Event()


def _observe(reading: asyncio.Future[list[RecordedEvent]]) -> None:
    """A failed read is raised to whoever awaits it; nobody awaiting must not warn."""
    if not reading.cancelled():
        reading.exception()
