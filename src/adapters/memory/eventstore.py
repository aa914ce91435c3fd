"""An event store in memory: the reference implementation of the port, for tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID

from commerce_core.eventstore import (
    AppendStream,
    ConcurrencyError,
    EventMetadata,
    Position,
    RecordedEvent,
    SnapshotRecord,
    StreamLoad,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MemoryEventStore:
    """Same contract as the PostgreSQL store; an append is atomic because it never awaits."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock
        self._log: list[RecordedEvent] = []
        self._streams: dict[UUID, list[RecordedEvent]] = {}
        self._event_ids: set[UUID] = set()
        self._snapshots: dict[UUID, list[SnapshotRecord]] = {}
        self._appended = asyncio.Event()

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        new_ids = [e.event_id for s in streams for e in s.events]
        stored = [event_id in self._event_ids for event_id in new_ids]
        if new_ids and all(stored):
            return []
        self._check(streams, any(stored))
        appended = self._store(streams, metadata, len(self._log) + 1)
        self._wake()
        return appended

    async def append_many(
        self, appends: Sequence[tuple[Sequence[AppendStream], EventMetadata]]
    ) -> list[list[RecordedEvent]]:
        streams = [s for group, _ in appends for s in group]
        stored = any(e.event_id in self._event_ids for s in streams for e in s.events)
        self._check(streams, stored)
        tx_id = len(self._log) + 1
        appended = [self._store(group, metadata, tx_id) for group, metadata in appends]
        self._wake()
        return appended

    def _check(self, streams: Sequence[AppendStream], stored: bool) -> None:
        new_ids = [e.event_id for s in streams for e in s.events]
        if len(set(new_ids)) != len(new_ids) or len({s.stream_id for s in streams}) != len(streams):
            raise ValueError("an append names the same stream or event id twice")
        for stream in streams:
            if len(self._streams.get(stream.stream_id, ())) != stream.expected_version or stored:
                raise ConcurrencyError(stream.stream_id, stream.expected_version)

    def _store(
        self, streams: Sequence[AppendStream], metadata: EventMetadata, tx_id: int
    ) -> list[RecordedEvent]:
        recorded_at = self._clock()
        appended: list[RecordedEvent] = []
        for stream in streams:
            events = self._streams.setdefault(stream.stream_id, [])
            for new in stream.events:
                record = RecordedEvent(
                    position=Position(tx_id, len(self._log) + 1),
                    stream_id=stream.stream_id,
                    version=len(events) + 1,
                    event_id=new.event_id,
                    type=new.type,
                    data=new.data,
                    metadata=metadata,
                    recorded_at=recorded_at,
                )
                events.append(record)
                self._log.append(record)
                self._event_ids.add(new.event_id)
                appended.append(record)
        return appended

    def _wake(self) -> None:
        self._appended.set()
        self._appended = asyncio.Event()

    async def read_stream(
        self, stream_id: UUID, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        events = self._streams.get(stream_id, [])
        return events[max(from_version, 1) - 1 : to_version]

    async def stream_version(self, stream_id: UUID) -> int:
        return len(self._streams.get(stream_id, ()))

    async def read_all(
        self, after: Position, limit: int = 1000, tenant_id: str | None = None
    ) -> list[RecordedEvent]:
        found = []
        for record in self._log[after.global_position :]:
            if tenant_id is None or record.metadata.tenant_id == tenant_id:
                found.append(record)
                if len(found) == limit:
                    break
        return found

    async def head(self) -> Position:
        return self._log[-1].position if self._log else Position(0, 0)

    async def subscribe(
        self, after: Position, batch_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        while True:
            woken = self._appended
            batch = await self.read_all(after, batch_size)
            for record in batch:
                yield record
                after = record.position
            if not batch:
                await woken.wait()

    async def save_snapshot(self, snapshot: SnapshotRecord) -> None:
        snapshots = self._snapshots.setdefault(snapshot.stream_id, [])
        snapshots.append(snapshot)
        snapshots.sort(key=lambda s: s.version)

    async def load_snapshot(
        self, stream_id: UUID, max_version: int | None = None
    ) -> SnapshotRecord | None:
        for snapshot in reversed(self._snapshots.get(stream_id, [])):
            if max_version is None or snapshot.version <= max_version:
                return snapshot
        return None

    async def load_stream(self, stream_id: UUID, to_version: int | None = None) -> StreamLoad:
        snapshot = await self.load_snapshot(stream_id, to_version)
        after = snapshot.version + 1 if snapshot else 1
        if to_version is not None and after > to_version:
            return StreamLoad(snapshot, [])
        return StreamLoad(snapshot, await self.read_stream(stream_id, after, to_version))

    async def load_streams(self, stream_ids: Sequence[UUID]) -> dict[UUID, StreamLoad]:
        loads = {stream_id: await self.load_stream(stream_id) for stream_id in stream_ids}
        return {key: load for key, load in loads.items() if load.snapshot or load.events}
