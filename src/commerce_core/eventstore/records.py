"""The records an event store reads and writes, and its errors."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import msgspec


class Position(NamedTuple):
    """A point in the global order of events.

    Events are ordered by the transaction that wrote them, then by their position
    within it. A reader that keeps the pair as its checkpoint never skips an
    event that committed after one with a higher ``global_position``.
    """

    tx_id: int
    global_position: int


START = Position(0, 0)


class EventMetadata(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Who and what caused an append; stored on every event of that append."""

    tenant_id: str
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None


class NewEvent(msgspec.Struct, frozen=True):
    """An event to append: its id makes retried appends idempotent."""

    event_id: UUID
    type: str
    data: bytes


class AppendStream(msgspec.Struct, frozen=True):
    """Events for one stream, valid only if the stream is at ``expected_version``.

    ``expected_version`` is the version of the last event already in the stream
    (0 for a new stream); the new events take the versions after it.
    """

    stream_id: UUID
    expected_version: int
    events: list[NewEvent]


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as stored, with its place in its stream and in the global order."""

    position: Position
    stream_id: UUID
    version: int
    event_id: UUID
    type: str
    data: bytes
    metadata: EventMetadata
    recorded_at: datetime


class SnapshotRecord(msgspec.Struct, frozen=True):
    """The state of an aggregate at ``version``, to skip replaying earlier events."""

    stream_id: UUID
    version: int
    type: str
    data: bytes


class StreamLoad(NamedTuple):
    """What loading an aggregate needs: its newest snapshot (if any) and the events after it."""

    snapshot: SnapshotRecord | None
    events: list[RecordedEvent]


class EventStoreError(Exception):
    """Base of the errors an event store raises."""


class ConcurrencyError(EventStoreError):
    """A stream was not at its expected version: nothing was appended."""

    def __init__(self, stream_id: UUID, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} is not at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version
