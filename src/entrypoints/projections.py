"""The registered projections and the runner that keeps them up to date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import asyncpg

from adapters.memory.projection_locks import MemoryProjectionLocks
from adapters.memory.readmodel import MemoryReadModel
from adapters.postgres.connection import server_settings
from adapters.postgres.projection_locks import PostgresProjectionLocks
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.eventstore import EventStore
from commerce_core.projections import Projection
from commerce_core.projections.analytics import OrderAnalytics
from commerce_core.projections.customer_metrics import CustomerMetricsProjection
from commerce_core.projections.order_list import OrderList
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.projections.runner import ProjectionRunner
from entrypoints.settings import Settings


def registered_projections() -> list[Projection]:
    return [OrderList(), CustomerMetricsProjection(), OrderAnalytics()]


def read_model_store(pool: asyncpg.Pool | None) -> ReadModelStore:
    return MemoryReadModel() if pool is None else PostgresReadModel(pool)


@asynccontextmanager
async def running_projections(
    settings: Settings, store: EventStore, read_models: ReadModelStore, pool: asyncpg.Pool | None
) -> AsyncIterator[ProjectionRunner]:
    """Runs every projection until the block ends; across processes an advisory lock
    per projection lets exactly one process work on each."""
    if pool is None:
        locks: MemoryProjectionLocks | PostgresProjectionLocks = MemoryProjectionLocks()
    else:
        assert settings.database_url
        connect = partial(
            asyncpg.connect,
            settings.database_url,
            server_settings=server_settings(settings.database_schema),
        )
        locks = PostgresProjectionLocks(connect)
    runner = ProjectionRunner(store, read_models, registered_projections(), locks=locks)
    async with runner:
        yield runner
    if isinstance(locks, PostgresProjectionLocks):
        await locks.close()
