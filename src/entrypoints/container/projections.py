"""What projection work needs besides the read models: locks between processes, and the
rebuild store (shadow tables and run progress)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import asyncpg

from adapters.memory.projection_locks import MemoryProjectionLocks
from adapters.memory.readmodel import MemoryReadModel
from adapters.memory.rebuilds import MemoryRebuildStore
from adapters.postgres.projection_locks import PostgresProjectionLocks
from adapters.postgres.rebuilds import PostgresRebuildStore
from commerce_core.projections import ProjectionLocks
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.projections.shadow import RebuildStore
from entrypoints.container.database import connector
from entrypoints.settings import Settings

LocksFactory = Callable[[], AbstractAsyncContextManager[ProjectionLocks]]
"""Opens the locks for one run (a runner, the jobs, a rebuild) and closes them after."""


def projection_locks(settings: Settings, pool: asyncpg.Pool | None) -> LocksFactory:
    """With PostgreSQL, advisory locks on a connection of their own per run, so that they
    exclude other processes; without, one set of in-process locks shared by every run."""
    if pool is None:
        shared = MemoryProjectionLocks()

        @asynccontextmanager
        async def in_process() -> AsyncIterator[ProjectionLocks]:
            yield shared

        return in_process

    connect = connector(settings)

    @asynccontextmanager
    async def advisory() -> AsyncIterator[ProjectionLocks]:
        held = PostgresProjectionLocks(connect)
        try:
            yield held
        finally:
            # the connection may be broken already; its session's locks end with it anyway
            with contextlib.suppress(Exception):
                await held.close()

    return advisory


def rebuild_store(pool: asyncpg.Pool | None, read_models: ReadModelStore) -> RebuildStore:
    if pool is None:
        assert isinstance(read_models, MemoryReadModel)
        return MemoryRebuildStore(read_models)
    return PostgresRebuildStore(pool)
