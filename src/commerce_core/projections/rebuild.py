"""Rebuilds a projection version without downtime, or checks its live rows.

The build reads every event from the first one and applies the projection's
changes to shadow tables, while the live tables keep serving and the live
runner keeps them current. The shadow never passes the live checkpoint: each
batch stops at it. To finish, the store holds the live checkpoint still, the
shadow takes the few events up to it (``Tail``), and then either replaces the
live tables in the same transaction (rebuild) or is compared with them
(verify). The live runner, wherever it runs, just goes on from its checkpoint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar
from uuid import UUID

from commerce_core.eventstore import START, EventMapper, EventStore, Position, RecordedEvent
from commerce_core.projections.changes import Change
from commerce_core.projections.ports.read_models import (
    Checkpoint,
    Lease,
    ProjectionLocks,
    QuarantinedEvent,
    ReadModelStore,
)
from commerce_core.projections.projection import Projection
from commerce_core.projections.quarantine import (
    changes_of,
    error_text,
    held_behind,
    quarantined,
    tenant_of,
)
from commerce_core.projections.shadow import (
    Purpose,
    RebuildProgress,
    RebuildStore,
    RowDifference,
    Tail,
)
from commerce_core.shared.ports.clock import Clock

T = TypeVar("T")

ProgressListener = Callable[[RebuildProgress], None]
Status = Literal["running", "done", "failed", "degraded"]


class RebuildRunningError(RuntimeError):
    """Another rebuild (or verify) of this projection version is running."""


class NotStartedError(LookupError):
    """The projection version has no checkpoint yet: no runner has prepared it."""


@dataclass
class _Build:
    """A shadow build in progress: where it is and how much it has done."""

    projection: Projection
    mapper: EventMapper
    purpose: Purpose
    started_at: datetime
    position: Position = START
    done: int = 0
    total: int = 0
    changes: list[Change] = field(default_factory=list)
    quarantine: list[QuarantinedEvent] = field(default_factory=list)
    held: dict[str, UUID] = field(default_factory=dict)

    def take(self, batch: Sequence[RecordedEvent], bound: Position, full: bool) -> bool:
        """Handles the batch's events up to ``bound`` into ``changes``; True once at it.

        As the runner does, an event that cannot be applied is quarantined for its
        tenant, with every later event of that tenant."""
        projection = self.projection
        for event in batch:
            if event.position > bound:
                return True
            if projection.wants(event.type):
                self._handle(event)
            self.position = event.position
            self.done += 1
        return not full or self.position >= bound

    def _handle(self, event: RecordedEvent) -> None:
        projection = self.projection
        tenant = tenant_of(event)
        first = self.held.get(tenant)
        if first is not None:
            self.quarantine.append(held_behind(projection, event, first))
            return
        try:
            self.changes.extend(changes_of(projection, self.mapper, event))
        except Exception as error:
            failed = quarantined(projection, event, error=error_text(error), failed=True)
            self.quarantine.append(failed)
            self.held[tenant] = event.event_id

    def drain(self) -> list[Change]:
        changes, self.changes = self.changes, []
        return changes

    def progress(self, status: Status, now: datetime, error: str | None = None) -> RebuildProgress:
        if status == "done" and self.quarantine:
            status = "degraded"
            error = (
                f"{len(self.quarantine)} event(s) of {len(self.held)} tenant(s) quarantined:"
                " see the projection's quarantine; retry or skip them"
            )
        total = self.done if status in ("done", "degraded") else max(self.total, self.done)
        return RebuildProgress(
            name=self.projection.name,
            version=self.projection.version,
            kind=self.purpose,
            status=status,
            done=self.done,
            total=total,
            started_at=self.started_at,
            updated_at=now,
            error=error,
            quarantined=len(self.quarantine),
        )


class ProjectionRebuilder:
    """Rebuilds (``rebuild``) or checks (``verify``) projection versions.

    ``locks`` keeps two runs of the same kind on the same version apart, across
    processes (key ``"<name>:v<N>:<kind>"``); ``on_progress`` hears every batch.
    """

    def __init__(
        self,
        store: EventStore,
        read_models: ReadModelStore,
        rebuilds: RebuildStore,
        clock: Clock,
        *,
        locks: ProjectionLocks | None = None,
        mapper: EventMapper | None = None,
        batch_size: int = 1000,
        on_progress: ProgressListener | None = None,
    ) -> None:
        self._store = store
        self._read_models = read_models
        self._rebuilds = rebuilds
        self._clock = clock
        self._locks = locks
        self._mapper = mapper or EventMapper()
        self._batch_size = batch_size
        self._on_progress = on_progress

    async def rebuild(self, projection: Projection) -> RebuildProgress:
        """Builds the version again from the first event and swaps it in; returns the
        final progress. The live tables serve until the swap commits."""

        builds: list[_Build] = []

        def held() -> list[QuarantinedEvent]:
            return builds[0].quarantine

        async def finish(tail: Tail) -> Position:
            return await self._rebuilds.swap_shadow(projection, tail, held)

        build, _ = await self._run(projection, "rebuild", finish, builds)
        return build.progress("done", self._clock.now())

    async def verify(self, projection: Projection, limit: int = 100) -> list[RowDifference]:
        """Builds the version aside and returns up to ``limit`` rows where the live
        tables differ from it (none: the live rows are what the events say)."""

        async def finish(tail: Tail) -> list[RowDifference]:
            return await self._rebuilds.diff_shadow(projection, tail, limit)

        _, found = await self._run(projection, "verify", finish)
        return found

    async def _run(
        self,
        projection: Projection,
        purpose: Purpose,
        finish: Callable[[Tail], Awaitable[T]],
        builds: list[_Build] | None = None,
    ) -> tuple[_Build, T]:
        lease = await self._lease(projection, purpose)
        try:
            await self._checkpoint(projection)  # refuse before creating anything
            build = _Build(projection, self._mapper, purpose, self._clock.now())
            if builds is not None:
                builds.append(build)
            try:
                await self._report(build, "running")
                await self._rebuilds.create_shadow(projection, purpose)
                await self._catch_up(build)
                result = await finish(self._tail(build))
            except BaseException as error:
                with contextlib.suppress(Exception):
                    await self._rebuilds.drop_shadow(projection, purpose)
                with contextlib.suppress(Exception):
                    await self._report(build, "failed", f"{type(error).__name__}: {error}")
                raise
            if purpose == "verify":
                await self._rebuilds.drop_shadow(projection, purpose)
            await self._report(build, "done")
            return build, result
        finally:
            await lease.release()

    async def _catch_up(self, build: _Build) -> None:
        """Builds up to the live checkpoint as it moves, one batch at a time."""
        while True:
            bound = (await self._checkpoint(build.projection)).position
            build.total = bound.global_position
            batch = await self._store.read_all(build.position, self._batch_size)
            at_bound = build.take(batch, bound, len(batch) >= self._batch_size)
            await self._rebuilds.apply_shadow(build.projection, build.purpose, build.drain())
            await self._report(build, "running")
            if at_bound:
                return

    def _tail(self, build: _Build) -> Tail:
        async def tail(position: Position) -> list[Change]:
            if position < build.position:
                raise RuntimeError(f"{build.projection.key}: the live checkpoint moved back")
            build.total = max(build.total, position.global_position)
            while True:
                batch = await self._store.read_all(build.position, self._batch_size)
                if build.take(batch, position, len(batch) >= self._batch_size):
                    return build.drain()

        return tail

    async def _checkpoint(self, projection: Projection) -> Checkpoint:
        for checkpoint in await self._read_models.checkpoints():
            if checkpoint.name == projection.name and checkpoint.version == projection.version:
                return checkpoint
        raise NotStartedError(f"{projection.key} has not been started: run the worker first")

    async def _lease(self, projection: Projection, purpose: Purpose) -> Lease:
        if self._locks is None:
            return _Unlocked()
        lease = await self._locks.try_acquire(f"{projection.key}:{purpose}")
        if lease is None:
            raise RebuildRunningError(f"a {purpose} of {projection.key} is running already")
        return lease

    async def _report(self, build: _Build, status: Status, error: str | None = None) -> None:
        progress = build.progress(status, self._clock.now(), error)
        await self._rebuilds.save_progress(progress)
        if self._on_progress is not None:
            self._on_progress(progress)


class _Unlocked:
    def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None
