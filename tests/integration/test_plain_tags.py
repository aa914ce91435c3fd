"""`commerce customers seal-tags` on PostgreSQL: tags recorded in plain text before ADR 0021
are sealed under their customer's key, or dropped for an erased customer."""

from __future__ import annotations

from functools import partial

from adapters.memory.clock import FixedClock, RandomIds
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.keyring import PostgresKeyring
from adapters.postgres.plain_tags import CUSTOMER_TOPIC, PlainTagSealer, SealedTags
from commerce_core.customers import services as app
from commerce_core.customers.services import CustomerServices, RegisterCustomer
from commerce_core.customers.tags import seal_tag
from commerce_core.eventstore import Repository
from commerce_core.shared.context import CommandContext
from tests.conftest import PgSchema
from tests.privacy import in_the_clear

MASTER_KEY = bytes(range(32))
STAFF = CommandContext(tenant_id="t1", actor="staff-1")
OLD_TAGS = '["vip", "late-payer"]'


async def test_plain_tags_are_sealed_in_place_and_an_erased_customers_are_dropped(
    pg_schema: PgSchema,
) -> None:
    pool = await pg_schema.pool(max_size=2)
    try:
        keyring = PostgresKeyring(pool, MASTER_KEY)
        repo = Repository(PostgresEventStore(pool))
        services = CustomerServices(repo=repo, keyring=keyring, clock=FixedClock(), ids=RandomIds())
        kept = await app.register_customer(services, STAFF, RegisterCustomer(email="a@x.example"))
        gone = await app.register_customer(services, STAFF, RegisterCustomer(email="b@x.example"))
        # as recorded before tags were sealed
        await pool.execute(
            "UPDATE events SET data = jsonb_set(data, '{tags}', $1::jsonb)"
            " WHERE stream_id = ANY($2::uuid[]) AND version = 1",
            OLD_TAGS,
            [kept.id, gone.id],
        )
        await pool.execute(
            "INSERT INTO snapshots (stream_id, version, type, data) VALUES ($1, 1, $2, $3::jsonb)",
            kept.id,
            CUSTOMER_TOPIC,
            '{"tags": ["late-payer"]}',
        )
        assert (await app.get_customer(repo, keyring, "t1", gone.id)).tags == ["vip", "late-payer"]
        await app.erase_customer(services, STAFF, gone.id)
        sealer = PlainTagSealer(pool, partial(seal_tag, keyring))

        assert await sealer.seal_plain_tags() == SealedTags(events=2, dropped=2, snapshots=1)

        stored = "".join(r["data"] for r in await pool.fetch("SELECT data::text FROM events"))
        snapshots = "".join(r["data"] for r in await pool.fetch("SELECT data::text FROM snapshots"))
        assert "late-payer" not in in_the_clear(stored + snapshots)
        assert (await app.get_customer(repo, keyring, "t1", kept.id)).tags == ["vip", "late-payer"]
        assert (await app.get_customer(repo, keyring, "t1", gone.id)).tags == []
        assert await sealer.seal_plain_tags() == SealedTags(events=0, dropped=0, snapshots=0)
    finally:
        await pool.close()
