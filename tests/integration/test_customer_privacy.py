"""Customer personal data on PostgreSQL: sealed in the events table, shredded by erasure."""

from __future__ import annotations

from adapters.memory.clock import FixedClock, RandomIds
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.keyring import PostgresKeyring
from commerce_core.customers import services as app
from commerce_core.customers.services import CustomerServices, RegisterCustomer
from commerce_core.eventstore import Repository
from commerce_core.shared.context import CommandContext
from commerce_core.shared.values import Address
from tests.conftest import PgSchema
from tests.privacy import in_the_clear

MASTER_KEY = bytes(range(32))
STAFF = CommandContext(tenant_id="t1", actor="staff-1")
ADA = RegisterCustomer(
    email="ada@example.com",
    name="Ada Lovelace",
    addresses=[
        Address(name="Ada Lovelace", line1="12 St James Sq", city="London",
                postal_code="SW1Y 4JH", country="GB")
    ],
)  # fmt: skip


async def test_events_in_postgres_hold_no_plain_personal_data_and_erasure_survives_restarts(
    pg_schema: PgSchema,
) -> None:
    pool = await pg_schema.pool(max_size=4)
    try:
        repo = Repository(PostgresEventStore(pool))
        clock = FixedClock()
        keyring = PostgresKeyring(pool, MASTER_KEY)
        services = CustomerServices(repo=repo, keyring=keyring, clock=clock, ids=RandomIds())
        view = await app.register_customer(services, STAFF, ADA)
        stored = "".join(r["data"].decode() for r in await pool.fetch("SELECT data FROM events"))
        for secret in ("ada@", "Ada", "Lovelace", "St James", "London", "SW1Y"):
            assert secret not in in_the_clear(stored), secret

        restarted = PostgresKeyring(pool, MASTER_KEY)
        assert (await app.get_customer(repo, restarted, "t1", view.id)).name == "Ada Lovelace"

        after = CustomerServices(repo=repo, keyring=restarted, clock=clock, ids=RandomIds())
        await app.erase_customer(after, STAFF, view.id)

        after_restart = await app.get_customer(
            repo, PostgresKeyring(pool, MASTER_KEY), "t1", view.id
        )
        assert after_restart.erased
        assert (after_restart.email, after_restart.name, after_restart.addresses) == (
            None,
            None,
            [],
        )
        assert await pool.fetchval("SELECT count(*) FROM customer_keys") == 0
        assert await pool.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", view.id) == 2
    finally:
        await pool.close()
