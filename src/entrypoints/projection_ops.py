"""Operators' work on projections, for the CLI and the admin API: status, rebuild, verify.

Rebuilds coordinate through the database (see ``commerce_core.projections.rebuild``),
so a rebuild started here works whichever process runs the live projections.
Each run takes its lock on a connection of its own, closed when the run ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import msgspec

from commerce_core.eventstore import EventStore
from commerce_core.projections import Projection, ProjectionLocks
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.projections.progress import lag
from commerce_core.projections.rebuild import (
    NotStartedError,
    ProgressListener,
    ProjectionRebuilder,
    RebuildRunningError,
)
from commerce_core.projections.shadow import RebuildProgress, RebuildStore, RowDifference
from commerce_core.shared.ports.clock import Clock
from entrypoints.container import Container, LocksFactory
from entrypoints.projections import registered_projections


class UnknownProjectionError(LookupError):
    """No registered projection has this name."""


class RunInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A rebuild or verify run: events done of the (estimated) total, rate, time left."""

    status: str
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


class ProjectionInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One projection version: its checkpoint (global position), lag, stored status,
    and its newest rebuild and verify runs."""

    name: str
    version: int
    position: int
    tx_id: int
    lag: int
    status: str
    serving: bool
    error: str | None
    rebuild: RunInfo | None
    verify: RunInfo | None


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

    async def statuses(self) -> list[ProjectionInfo]:
        """Every stored projection version, and registered ones not started yet."""
        head = await self._store.head()
        runs = {(r.name, r.version, r.kind): RunInfo.of(r) for r in await self._rebuilds.rebuilds()}
        infos = [
            ProjectionInfo(
                name=c.name,
                version=c.version,
                position=c.position.global_position,
                tx_id=c.position.tx_id,
                lag=lag(c.position, head),
                status=str(c.state),
                serving=c.serving,
                error=c.error,
                rebuild=runs.get((c.name, c.version, "rebuild")),
                verify=runs.get((c.name, c.version, "verify")),
            )
            for c in await self._read_models.checkpoints()
        ]
        started = {(i.name, i.version) for i in infos}
        for p in self._projections.values():
            if (p.name, p.version) not in started:
                infos.append(_not_started(p, head.global_position))
        return sorted(infos, key=lambda i: (i.name, i.version))

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


def _not_started(projection: Projection, head: int) -> ProjectionInfo:
    return ProjectionInfo(
        name=projection.name,
        version=projection.version,
        position=0,
        tx_id=0,
        lag=head,
        status="not_started",
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
    "RebuildRunningError",
    "RunInfo",
    "UnknownProjectionError",
    "build_projection_ops",
]
