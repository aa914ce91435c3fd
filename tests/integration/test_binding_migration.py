"""Migration 0014: a gateway payment's tenant stays bound only where our own call confirms it."""

from __future__ import annotations

import uuid

from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.migrate import migrate
from commerce_core.eventstore import EventMetadata, Repository
from commerce_core.payments.reference import PaymentReference
from tests.conftest import PgSchema

NAME = "0014_operator_role_and_trusted_bindings"


async def test_bindings_without_the_tenant_s_own_reference_are_dropped(
    pg_schema: PgSchema,
) -> None:
    pool = await pg_schema.pool()
    repo = Repository(PostgresEventStore(pool))
    ours = PaymentReference.link("victim", "stripe", "pi_ours", uuid.uuid4())
    await repo.save(ours, metadata=EventMetadata(tenant_id="victim"))
    conn = await pg_schema.connect()
    try:
        await conn.executemany(
            "INSERT INTO gateway_payment_tenants VALUES ($1, $2, $3)",
            [
                ("stripe", "pi_ours", "victim"),  # confirmed by the victim's reference
                ("stripe", "pi_claimed", "attacker"),  # the attacker's own account said so
                ("fake", "pi_ours", "attacker"),  # same id, another gateway
            ],
        )
        await conn.execute("DELETE FROM schema_migrations WHERE name = $1", NAME)

        assert await migrate(conn) == [NAME]

        rows = await conn.fetch("SELECT * FROM gateway_payment_tenants")
        assert [tuple(r) for r in rows] == [("stripe", "pi_ours", "victim")]
    finally:
        await conn.close()
        await pool.close()
