"""A projection's progress in a runner, as the runner tracks it and reports it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from uuid import UUID

import msgspec

from commerce_core.eventstore import START, Position, RecordedEvent
from commerce_core.projections.ports.read_models import ProjectionState
from commerce_core.projections.projection import Projection
from commerce_core.projections.tables import TableSpec


class ProjectionStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A projection as one runner sees it; ``lag`` counts positions behind ``head``."""

    name: str
    version: int
    state: ProjectionState
    position: Position
    head: Position
    lag: int
    serving: bool
    handled: int
    error: str | None
    degraded_tenants: list[str] = msgspec.field(default_factory=list)
    """Tenants whose events this projection holds (quarantined), by tenant id."""


class ProjectionFailedError(Exception):
    """A projection's handler raised, or produced a change that does not fit."""

    def __init__(self, key: str, event: RecordedEvent | None, cause: BaseException) -> None:
        where = ""
        if event is not None:
            where = f" at event {event.event_id} ({event.type}, position {tuple(event.position)})"
        super().__init__(f"projection {key} failed{where}: {type(cause).__name__}: {cause}")
        self.key = key
        self.position = event.position if event is not None else None


@dataclass
class Track:
    """One projection's progress in this runner; ``changed`` fires on every update."""

    projection: Projection
    tables: Mapping[str, TableSpec]
    state: ProjectionState = ProjectionState.STANDBY
    position: Position = START
    serving: bool = False
    handled: int = 0
    error: str | None = None
    held: dict[str, UUID] = field(default_factory=dict)  # tenant -> its first failed event
    task: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()


def lag(position: Position, head: Position) -> int:
    if position >= head:
        return 0
    # positions are ordered by transaction first, so this is an estimate of events behind
    return max(1, head.global_position - position.global_position)
