"""Ports of the projection machinery: where read models live, and who may write them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

import msgspec

from commerce_core.eventstore import Position
from commerce_core.projections.changes import Change
from commerce_core.projections.projection import Projection


class ProjectionState(StrEnum):
    """Where a projection stands in a runner (the stored ones are marked *)."""

    STANDBY = "standby"  # waiting for its lock: another runner has it
    CATCHING_UP = "catching_up"  # * serving, reading history
    REBUILDING = "rebuilding"  # * not yet serving: building from history beside the serving one
    LIVE = "live"  # * caught up, following new events
    FAILED = "failed"  # * its handler raised; stopped until restarted
    STOPPED = "stopped"  # its runner was stopped


STORED_STATES = frozenset(
    {
        ProjectionState.CATCHING_UP,
        ProjectionState.REBUILDING,
        ProjectionState.LIVE,
        ProjectionState.FAILED,
    }
)


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """How far a projection version has applied events, and whether queries read it."""

    name: str
    version: int
    position: Position
    state: ProjectionState
    serving: bool
    error: str | None = None


class QuarantinedEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event a projection version holds for one tenant instead of applying it.

    ``failed``: applying it failed with ``error``; otherwise it waits behind an
    earlier event of the tenant that failed (``error`` says which).
    """

    name: str
    version: int
    tenant_id: str
    position: Position
    event_id: UUID
    stream_id: UUID
    stream_version: int
    event_type: str
    failed: bool
    error: str


class CheckpointConflictError(Exception):
    """The checkpoint was not where the writer expected: another runner wrote it.

    Nothing of the batch was applied.
    """


class QuarantineChangedError(CheckpointConflictError):
    """The quarantine is not what the writer expected (released or added meanwhile).

    Nothing was applied; read the quarantine again and redo the work.
    """


class ReadModelSchemaError(Exception):
    """A projection version's tables exist with another shape: bump its version."""


class QuarantineStore(Protocol):
    """The events projections hold per tenant (see ``commerce_core.projections.quarantine``).

    - ``quarantined`` lists held events in event order, filtered by projection
      name, version and tenant.
    - ``release`` removes one held event and applies ``changes`` in one
      transaction, serialized with the runner's batches of that projection
      version; ``QuarantineChangedError`` if the event is no longer held,
      ``InvalidChangeError`` (nothing applied) if a change does not fit.
    - ``mark_failed`` records that applying a held event failed with ``error``.
    """

    async def quarantined(
        self, name: str | None = None, version: int | None = None, tenant_id: str | None = None
    ) -> list[QuarantinedEvent]: ...

    async def release(
        self, projection: Projection, entry: QuarantinedEvent, changes: Sequence[Change]
    ) -> None: ...

    async def mark_failed(self, entry: QuarantinedEvent, error: str) -> None: ...


class ReadModelStore(QuarantineStore, Protocol):
    """Keeps projections' tables and checkpoints, and applies changes exactly once.

    - ``prepare`` creates the version's tables and checkpoint if missing and
      returns the checkpoint; the first version of a name to be prepared serves.
      With ``defer_indexes`` and a checkpoint at the start, a store may leave
      out the indexes that only serve queries, until ``build_indexes``: a
      runner fills the empty tables with the whole history first (ADR 0045).
    - ``build_indexes`` creates whatever ``prepare`` left out (idempotent).
    - ``apply`` applies ``changes``, adds ``quarantine`` to the held events and
      moves the checkpoint from ``expected`` to ``position`` in one transaction:
      all or nothing. If the checkpoint is not at ``expected`` it raises
      ``CheckpointConflictError`` and applies nothing; if ``held`` is given and
      the tenants with held events (before this batch) are not exactly ``held``,
      ``QuarantineChangedError``; a change that does not fit raises
      ``InvalidChangeError`` and applies nothing.
    - ``promote`` makes this version the one queries read (``serving``).
    - ``rows`` reads a table (the serving version unless ``version`` is given),
      filtered by column equality and sorted by key; for tests and operators.
    """

    async def prepare(
        self, projection: Projection, *, defer_indexes: bool = False
    ) -> Checkpoint: ...

    async def build_indexes(self, projection: Projection) -> None: ...

    async def apply(
        self,
        projection: Projection,
        changes: Sequence[Change],
        expected: Position,
        position: Position,
        *,
        quarantine: Sequence[QuarantinedEvent] = (),
        held: frozenset[str] | None = None,
    ) -> None: ...

    async def set_state(
        self, projection: Projection, state: ProjectionState, error: str | None = None
    ) -> None: ...

    async def promote(self, projection: Projection) -> None: ...

    async def checkpoints(self) -> list[Checkpoint]: ...

    async def rows(
        self, table: str, version: int | None = None, **where: Any
    ) -> list[dict[str, Any]]: ...


class Lease(Protocol):
    """The right to run one projection version, until released or lost."""

    def held(self) -> bool:
        """False once the lease is released or lost (e.g. its connection closed)."""
        ...

    async def release(self) -> None: ...


@dataclass(frozen=True)
class Peers:
    """The runners sharing the projections now: this one's place among them, oldest
    first, and how many there are (ADR 0054)."""

    rank: int = 0
    count: int = 1

    def prefers(self, index: int) -> bool:
        """Whether the projection at ``index`` of the registered list is this runner's."""
        return index % self.count == self.rank


ALONE = Peers()


class ProjectionLocks(Protocol):
    """Mutual exclusion between runners: at most one holds a key at a time."""

    async def try_acquire(self, key: str) -> Lease | None:
        """A lease on ``key``, or None at once if another holder has it."""
        ...

    async def peers(self) -> Peers:
        """The runners present now, this holder counted among them from its first call
        on (only runners call it: a rebuild or a job does not share projections)."""
        ...
