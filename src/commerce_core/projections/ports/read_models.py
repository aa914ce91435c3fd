"""Ports of the projection machinery: where read models live, and who may write them."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

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


class CheckpointConflictError(Exception):
    """The checkpoint was not where the writer expected: another runner wrote it.

    Nothing of the batch was applied.
    """


class ReadModelSchemaError(Exception):
    """A projection version's tables exist with another shape: bump its version."""


class ReadModelStore(Protocol):
    """Keeps projections' tables and checkpoints, and applies changes exactly once.

    - ``prepare`` creates the version's tables and checkpoint if missing and
      returns the checkpoint; the first version of a name to be prepared serves.
    - ``apply`` applies ``changes`` and moves the checkpoint from ``expected`` to
      ``position`` in one transaction: all or nothing. If the checkpoint is not
      at ``expected`` it raises ``CheckpointConflictError`` and applies nothing;
      a change that does not fit raises ``InvalidChangeError`` and applies nothing.
    - ``promote`` makes this version the one queries read (``serving``).
    - ``rows`` reads a table (the serving version unless ``version`` is given),
      filtered by column equality and sorted by key; for tests and operators.
    """

    async def prepare(self, projection: Projection) -> Checkpoint: ...

    async def apply(
        self,
        projection: Projection,
        changes: Sequence[Change],
        expected: Position,
        position: Position,
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


class ProjectionLocks(Protocol):
    """Mutual exclusion between runners: at most one holds a key at a time."""

    async def try_acquire(self, key: str) -> Lease | None:
        """A lease on ``key``, or None at once if another holder has it."""
        ...
