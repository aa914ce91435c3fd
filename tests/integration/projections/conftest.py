"""A PostgreSQL event store, read-model store and locks in a private schema per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.eventstore import (
    START,
    AppendStream,
    EventMetadata,
    NewEvent,
    Position,
    RecordedEvent,
)
from tests.conftest import PgSchema

TICKED = "tests.nowhere:Counter.Ticked"  # never decoded: no projection here wants it decoded


@pytest.fixture
async def pool(pg_schema: PgSchema) -> AsyncIterator[asyncpg.Pool]:
    pool = await pg_schema.pool(max_size=20)
    yield pool
    await pool.close()


@pytest.fixture
def store(pool: asyncpg.Pool) -> PostgresEventStore:
    return PostgresEventStore(pool, poll_interval=0.02)


@pytest.fixture
def read_model(pool: asyncpg.Pool) -> PostgresReadModel:
    return PostgresReadModel(pool)


async def append_events(
    store: PostgresEventStore, count: int, tenant: str = "t1"
) -> list[RecordedEvent]:
    """``count`` events of a new stream; ``EventCounts`` counts them without decoding."""
    events = [NewEvent(uuid.uuid4(), TICKED, b"{}") for _ in range(count)]
    return await store.append(
        [AppendStream(uuid.uuid4(), 0, events)], EventMetadata(tenant_id=tenant)
    )


async def newest_position(pool: asyncpg.Pool) -> Position:
    """The newest event's position, committed or not yet visible to readers.

    ``EventStore.head`` stops below the oldest running transaction (a runner's
    own batch is one), so a test waits for this instead, once its appends are done.
    """
    row = await pool.fetchrow(
        "SELECT tx_id, global_position FROM events ORDER BY tx_id DESC, global_position DESC"
        " LIMIT 1"
    )
    return Position(row[0], row[1]) if row else START
