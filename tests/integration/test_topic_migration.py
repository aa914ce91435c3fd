"""Migration 0010: events and snapshots stored before the move to bounded contexts still load."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.migrate import migrate
from commerce_core.catalog.product import Product
from commerce_core.eventstore import EventMetadata, Repository
from commerce_core.shared.money import Money
from tests.conftest import PgSchema

AT = datetime(2026, 11, 1, tzinfo=UTC)
OLD, NEW = "commerce_core.domain.catalog:", "commerce_core.catalog.product:"
# what a database written before the move holds: old types, and the old aggregate topic
# inside each creation event's payload
AS_BEFORE_THE_MOVE = (
    "UPDATE events SET type = replace(type, $1, $2), data = replace(data::text, $1, $2)::jsonb",
    "UPDATE snapshots SET type = replace(type, $1, $2)",
)


async def test_types_and_topics_stored_under_the_old_modules_are_renamed_and_load(
    pg_schema: PgSchema,
) -> None:
    pool = await pg_schema.pool()
    repo = Repository(PostgresEventStore(pool), snapshot_every=2)
    product = Product.define("t1", "MUG-1", "Mug", Money(1200, "USD"), 825, AT)
    product.change("Mug", Money(1300, "USD"), 825, AT)
    await repo.save(product, metadata=EventMetadata(tenant_id="t1"))
    conn = await pg_schema.connect()
    try:
        for statement in AS_BEFORE_THE_MOVE:
            await conn.execute(statement, NEW, OLD)
        old_topic = await conn.fetchval(
            "SELECT data->>'originator_topic' FROM events WHERE version = 1"
        )
        assert old_topic == OLD + "Product"
        await conn.execute("DELETE FROM schema_migrations WHERE name = '0010_topics_by_context'")

        assert await migrate(conn) == ["0010_topics_by_context"]

        types = {r["type"] for r in await conn.fetch("SELECT type FROM events")}
        assert types == {NEW + "Product.Defined", NEW + "Product.Changed"}
        assert await conn.fetchval(
            "SELECT data->>'originator_topic' FROM events WHERE version = 1"
        ) == (NEW + "Product")
        snapshot_types = {r["type"] for r in await conn.fetch("SELECT type FROM snapshots")}
        assert snapshot_types == {NEW + "Product"}
    finally:
        await conn.close()
    plain = Repository(PostgresEventStore(pool))
    loaded = await plain.get(product.id, kind=Product)  # from the snapshot
    first = await plain.get(product.id, version=1, kind=Product)  # replays the creation event
    assert (loaded.price, loaded.version) == (Money(1300, "USD"), 2)
    assert (first.price, first.version) == (Money(1200, "USD"), 1)
    await pool.close()
