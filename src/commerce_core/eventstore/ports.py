"""The event store port: what the core needs from wherever events are kept."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol
from uuid import UUID

from commerce_core.eventstore.records import (
    AppendStream,
    EventMetadata,
    Position,
    RecordedEvent,
    SnapshotRecord,
    StreamLoad,
)


class EventStore(Protocol):
    """An append-only log of events, in streams, with one global order.

    - ``append`` is atomic across all the given streams: either every event is
      stored or none is. A stream not at its expected version raises
      ``ConcurrencyError`` and nothing is appended. An append whose event ids
      are all already stored is a no-op and returns ``[]`` (a retried append).
    - ``read_all`` returns committed events after ``after`` in the global order;
      it never returns an event out of that order, so a reader checkpointing the
      last position it saw neither skips nor repeats an event.
    - ``subscribe`` yields every event after ``after``: first history, then new
      events as they are appended, until the caller stops iterating.
    """

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]: ...

    async def append_many(
        self, appends: Sequence[tuple[Sequence[AppendStream], EventMetadata]]
    ) -> list[list[RecordedEvent]]:
        """Several appends, each with its own metadata, stored together atomically (one
        statement): every event of every append, or none. Raises ``ConcurrencyError``
        when any append would not be stored as given (a stream not at its expected
        version, or an event id stored already): the caller then appends them one by one
        to learn which (and to make a retried append a no-op). No stream may be named by
        two of them. Returns each append's recorded events."""
        ...

    async def read_stream(
        self, stream_id: UUID, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]: ...

    async def stream_version(self, stream_id: UUID) -> int: ...

    async def read_all(
        self, after: Position, limit: int = 1000, tenant_id: str | None = None
    ) -> list[RecordedEvent]: ...

    def subscribe(
        self, after: Position, batch_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]: ...

    async def head(self) -> Position:
        """The position of the newest event that readers may see now."""
        ...

    async def save_snapshot(self, snapshot: SnapshotRecord) -> None: ...

    async def load_snapshot(
        self, stream_id: UUID, max_version: int | None = None
    ) -> SnapshotRecord | None: ...

    async def load_stream(self, stream_id: UUID, to_version: int | None = None) -> StreamLoad:
        """The newest snapshot at or below ``to_version`` and the stream's events after it,
        up to ``to_version`` (default: all), read together: loading an aggregate is one read."""
        ...

    async def load_streams(self, stream_ids: Sequence[UUID]) -> dict[UUID, StreamLoad]:
        """``load_stream`` of several streams, up to their newest events, in one read:
        a command that needs several aggregates loads them in one round trip. A stream
        with no events and no snapshot is missing from the answer."""
        ...
