"""PostgreSQL-only behaviour of the event store: the read horizon."""

from __future__ import annotations

import asyncio
import uuid

from adapters.postgres.eventstore import PostgresEventStore
from commerce_core.eventstore import START, AppendStream, EventMetadata, NewEvent, RecordedEvent
from tests.conftest import PgSchema

META = EventMetadata(tenant_id="t1")


async def _once_visible(store: PostgresEventStore, count: int) -> list[RecordedEvent]:
    """The events once ``count`` are readable: the horizon is cluster-wide, so a transaction
    open in another database (another test run on the same server) may hold it a moment."""
    for _ in range(200):
        seen = await store.read_all(START)
        if len(seen) >= count:
            return seen
        await asyncio.sleep(0.05)
    return await store.read_all(START)


def one_event() -> list[NewEvent]:
    return [NewEvent(uuid.uuid4(), "Thing.Happened", b"{}")]


async def test_an_open_transaction_holds_back_later_commits_until_it_ends(
    pg_schema: PgSchema,
) -> None:
    pool = await pg_schema.pool()
    store = PostgresEventStore(pool)
    early, late = uuid.uuid4(), uuid.uuid4()
    blocker = await pg_schema.connect()
    try:
        transaction = blocker.transaction()
        await transaction.start()
        # the open transaction takes a lower position first, then idles
        await blocker.execute(
            "INSERT INTO events (stream_id, version, event_id, type, data, tenant_id, recorded_at)"
            " VALUES ($1, 1, $2, 'Thing.Happened', '{}', 't1', now())",
            early,
            uuid.uuid4(),
        )
        await store.append([AppendStream(late, 0, one_event())], META)

        assert await store.read_all(START) == []
        assert await store.horizon_lag() == 1

        await transaction.commit()
        seen = await _once_visible(store, 2)
        assert [r.stream_id for r in seen] == [early, late]
        assert await store.horizon_lag() == 0
    finally:
        await blocker.close()
        await pool.close()
