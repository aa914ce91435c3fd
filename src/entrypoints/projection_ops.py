"""Operators' work on projections, for the CLI and the admin API: status, rebuild, verify.

Rebuilds coordinate through the database (see ``commerce_core.projections.rebuild``),
so a rebuild started here works whichever process runs the live projections.
Each run takes its lock on a connection of its own, closed when the run ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from commerce_core.eventstore import EventStore, Position
from commerce_core.projections import (
    Checkpoint,
    Projection,
    ProjectionLocks,
    ProjectionState,
    QuarantinedEvent,
    quarantine,
)
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.projections.progress import lag
from commerce_core.projections.quarantine import QuarantineServices, Resolution
from commerce_core.projections.rebuild import (
    NotStartedError,
    ProgressListener,
    ProjectionRebuilder,
    RebuildRunningError,
    Status,
)
from commerce_core.projections.shadow import Purpose, RebuildProgress, RebuildStore, RowDifference
from commerce_core.shared.ports.clock import Clock
from entrypoints.container import Container, LocksFactory
from entrypoints.projections import registered_projections


class UnknownProjectionError(LookupError):
    """No registered projection has this name."""


class RunInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A rebuild or verify run: events done of the (estimated) total, rate, time left."""

    status: Status
    done: int
    total: int
    rate: float | None
    eta_seconds: float | None
    started_at: datetime
    updated_at: datetime
    error: str | None

    @classmethod
    def of(cls, progress: RebuildProgress) -> RunInfo:
        return cls(
            status=progress.status,
            done=progress.done,
            total=progress.total,
            rate=None if progress.rate is None else round(progress.rate, 1),
            eta_seconds=None if progress.eta_seconds is None else round(progress.eta_seconds, 1),
            started_at=progress.started_at,
            updated_at=progress.updated_at,
            error=progress.error,
        )


class QuarantineInfo(msgspec.Struct, frozen=True, kw_only=True):
    """An event a projection holds for its tenant: the one that failed (``failed``) or
    one waiting behind it."""

    tenant_id: str
    event_id: UUID
    event_type: str
    position: int
    failed: bool
    error: str

    @classmethod
    def of(cls, entry: QuarantinedEvent) -> QuarantineInfo:
        return cls(
            tenant_id=entry.tenant_id,
            event_id=entry.event_id,
            event_type=entry.event_type,
            position=entry.position.global_position,
            failed=entry.failed,
            error=entry.error,
        )


class ProjectionStatus(StrEnum):
    """A projection's state in its runner, ``degraded`` while it holds events in
    quarantine, or ``not_started`` before any runner took it."""

    STANDBY = ProjectionState.STANDBY.value
    CATCHING_UP = ProjectionState.CATCHING_UP.value
    REBUILDING = ProjectionState.REBUILDING.value
    LIVE = ProjectionState.LIVE.value
    FAILED = ProjectionState.FAILED.value
    DEGRADED = "degraded"
    NOT_STARTED = "not_started"


class ProjectionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One projection version: its checkpoint (global position), lag, status, and its
    newest rebuild and verify runs.

    ``status`` is ``degraded`` while events are quarantined (``quarantined`` of them, for
    ``degraded_tenants`` tenants); ``errors`` are the events that failed, at most
    ``MAX_ERRORS``. A tenant's view shows only that tenant's quarantine.
    """

    name: str
    version: int
    position: int
    tx_id: int
    lag: int
    status: ProjectionStatus
    serving: bool
    error: str | None
    rebuild: RunInfo | None
    verify: RunInfo | None
    quarantined: int = 0
    degraded_tenants: int = 0
    errors: list[QuarantineInfo] = msgspec.field(default_factory=list)


class ProjectionOps:
    """Status, rebuild and verify of the registered projections.

    ``start_rebuild`` runs a rebuild in a task of this process (the admin
    endpoint); ``close`` cancels the ones still running.
    """

    def __init__(
        self,
        store: EventStore,
        read_models: ReadModelStore,
        rebuilds: RebuildStore,
        projections: Sequence[Projection],
        clock: Clock,
        locks: LocksFactory,
        batch_size: int = 1000,
    ) -> None:
        self._store = store
        self._read_models = read_models
        self._rebuilds = rebuilds
        self._projections = {p.name: p for p in projections}
        self._clock = clock
        self._locks = locks
        self._batch_size = batch_size
        self._tasks: dict[str, asyncio.Task[RebuildProgress]] = {}

    def projection(self, name: str) -> Projection:
        try:
            return self._projections[name]
        except KeyError:
            raise UnknownProjectionError(f"no projection {name!r}") from None

    async def statuses(self, tenant_id: str | None = None) -> list[ProjectionInfo]:
        """Every stored projection version, and registered ones not started yet.

        With ``tenant_id``: that tenant's view, for its admins: only its own quarantine,
        and no text that could name another tenant's data (the projection's own error,
        the errors of rebuild runs). Without: the operators' view of every tenant."""
        head = await self._store.head()
        runs = {(r.name, r.version, r.kind): RunInfo.of(r) for r in await self._rebuilds.rebuilds()}
        held: dict[tuple[str, int], list[QuarantinedEvent]] = {}
        for entry in await self._read_models.quarantined(tenant_id=tenant_id):
            held.setdefault((entry.name, entry.version), []).append(entry)
        infos = [
            _info(c, head, held.get((c.name, c.version), []), runs, tenant_id is None)
            for c in await self._read_models.checkpoints()
        ]
        started = {(i.name, i.version) for i in infos}
        for p in self._projections.values():
            if (p.name, p.version) not in started:
                infos.append(_not_started(p, head.global_position))
        return sorted(infos, key=lambda i: (i.name, i.version))

    async def quarantine(
        self, name: str | None = None, tenant_id: str | None = None
    ) -> list[QuarantineInfo]:
        """The held events of the registered versions, in event order."""
        found = []
        for entry in await self._read_models.quarantined(name, tenant_id=tenant_id):
            registered = self._projections.get(entry.name)
            if registered is not None and registered.version == entry.version:
                found.append(QuarantineInfo.of(entry))
        return found

    async def retry(self, name: str, tenant_id: str | None = None) -> list[Resolution]:
        """Applies the held events of ``name`` (for one tenant, or all) in order."""
        return await quarantine.retry(self._quarantine(), self.projection(name), tenant_id)

    async def skip(self, name: str, tenant_id: str, event_id: UUID | None = None) -> Resolution:
        """Drops the tenant's failing event of ``name`` and applies the ones behind it."""
        projection = self.projection(name)
        return await quarantine.skip(self._quarantine(), projection, tenant_id, event_id)

    def _quarantine(self) -> QuarantineServices:
        return QuarantineServices(self._store, self._read_models)

    async def rebuild(
        self, name: str, on_progress: ProgressListener | None = None
    ) -> RebuildProgress:
        """Rebuilds the registered version of ``name`` into fresh tables and swaps them in."""
        projection = self.projection(name)
        async with self._locks() as locks:
            return await self._rebuilder(locks, on_progress).rebuild(projection)

    async def verify(
        self, name: str, limit: int = 100, on_progress: ProgressListener | None = None
    ) -> list[RowDifference]:
        """Rows where the live tables differ from a fresh build (none: all is well)."""
        projection = self.projection(name)
        async with self._locks() as locks:
            return await self._rebuilder(locks, on_progress).verify(projection, limit)

    async def start_rebuild(self, name: str) -> asyncio.Task[RebuildProgress]:
        """Starts ``rebuild(name)`` in the background; ``NotStartedError`` if the version
        has never run, ``RebuildRunningError`` if this process runs one already (another
        process's run makes this one fail at once, recording nothing)."""
        projection = self.projection(name)
        if not any(
            (c.name, c.version) == (projection.name, projection.version)
            for c in await self._read_models.checkpoints()
        ):
            raise NotStartedError(f"{projection.key} has not been started: run the worker first")
        running = self._tasks.get(name)
        if running is not None and not running.done():
            raise RebuildRunningError(f"a rebuild of {name} is running already")
        task = asyncio.create_task(self.rebuild(name), name=f"rebuild:{name}")
        task.add_done_callback(_retrieve)
        self._tasks[name] = task
        return task

    async def close(self) -> None:
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _rebuilder(
        self, locks: ProjectionLocks, on_progress: ProgressListener | None
    ) -> ProjectionRebuilder:
        return ProjectionRebuilder(
            self._store,
            self._read_models,
            self._rebuilds,
            self._clock,
            locks=locks,
            batch_size=self._batch_size,
            on_progress=on_progress,
        )


def _retrieve(task: asyncio.Task[RebuildProgress]) -> None:
    # the outcome is stored as the run's progress; keep asyncio from logging it as lost
    if not task.cancelled():
        task.exception()


MAX_ERRORS = 100


def _info(
    c: Checkpoint,
    head: Position,
    held: Sequence[QuarantinedEvent],
    runs: dict[tuple[str, int, Purpose], RunInfo],
    everything: bool,
) -> ProjectionInfo:
    status = ProjectionStatus(c.state.value)
    if held and c.state in (ProjectionState.LIVE, ProjectionState.CATCHING_UP):
        status = ProjectionStatus.DEGRADED
    return ProjectionInfo(
        name=c.name,
        version=c.version,
        position=c.position.global_position,
        tx_id=c.position.tx_id,
        lag=lag(c.position, head),
        status=status,
        serving=c.serving,
        error=c.error if everything else None,
        rebuild=_run(runs.get((c.name, c.version, "rebuild")), everything),
        verify=_run(runs.get((c.name, c.version, "verify")), everything),
        quarantined=len(held),
        degraded_tenants=len({e.tenant_id for e in held}),
        errors=[QuarantineInfo.of(e) for e in held if e.failed][:MAX_ERRORS],
    )


def _run(run: RunInfo | None, everything: bool) -> RunInfo | None:
    # a run's error may quote any tenant's event: only operators read it
    if run is None or everything:
        return run
    return msgspec.structs.replace(run, error=None)


def _not_started(projection: Projection, head: int) -> ProjectionInfo:
    return ProjectionInfo(
        name=projection.name,
        version=projection.version,
        position=0,
        tx_id=0,
        lag=head,
        status=ProjectionStatus.NOT_STARTED,
        serving=False,
        error=None,
        rebuild=None,
        verify=None,
    )


def build_projection_ops(container: Container) -> ProjectionOps:
    """Operations on the container's stores (its pool must be provided already)."""
    return ProjectionOps(
        container.event_store(),
        container.read_models(),
        container.rebuilds(),
        registered_projections(),
        container.clock(),
        container.projection_locks(),
    )


__all__ = [
    "NotStartedError",
    "ProjectionInfo",
    "ProjectionOps",
    "QuarantineInfo",
    "RebuildRunningError",
    "Resolution",
    "RunInfo",
    "UnknownProjectionError",
    "build_projection_ops",
]
