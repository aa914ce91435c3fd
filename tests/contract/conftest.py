"""Every event store adapter runs the same contract tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from adapters.memory.eventstore import MemoryEventStore
from adapters.postgres.eventstore import PostgresEventStore
from commerce_core.eventstore import EventStore
from tests.conftest import BeforeCommit, PgSchema

StoreFactory = Callable[..., Awaitable[EventStore]]


@pytest.fixture(params=["memory", "postgres"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Builds stores of one adapter; all stores built in one test share the same data.

    ``before_commit`` delays the commit of each append (PostgreSQL); the memory
    store commits atomically, so it has no such window to widen.
    """
    if request.param == "memory":
        shared = MemoryEventStore()

        async def memory(before_commit: BeforeCommit | None = None, **_: int) -> EventStore:
            return shared

        yield memory
        return

    schema = await PgSchema.create()
    pools = []

    async def postgres(
        before_commit: BeforeCommit | None = None, pool_size: int = 10
    ) -> EventStore:
        pool = await schema.pool(max_size=pool_size)
        pools.append(pool)
        return PostgresEventStore(pool, before_commit=before_commit, poll_interval=0.05)

    yield postgres
    for pool in pools:
        await pool.close()
    await schema.drop()


@pytest.fixture
async def store(make_store: StoreFactory) -> EventStore:
    return await make_store()
