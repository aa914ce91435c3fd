"""Event store port, records, the event mapper and the aggregate repository."""

from commerce_core.eventstore.mapper import EventMapper
from commerce_core.eventstore.ports import EventStore
from commerce_core.eventstore.records import (
    START,
    AppendStream,
    ConcurrencyError,
    EventMetadata,
    EventStoreError,
    NewEvent,
    Position,
    RecordedEvent,
    SnapshotRecord,
    StreamLoad,
)
from commerce_core.eventstore.repository import AggregateNotFoundError, Repository

__all__ = [
    "START",
    "AggregateNotFoundError",
    "AppendStream",
    "ConcurrencyError",
    "EventMapper",
    "EventMetadata",
    "EventStore",
    "EventStoreError",
    "NewEvent",
    "Position",
    "RecordedEvent",
    "Repository",
    "SnapshotRecord",
    "StreamLoad",
]
