"""Webhooks that arrive together are stored by one INSERT; a row PostgreSQL refuses fails alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from adapters.postgres.webhooks import PostgresWebhookInbox
from commerce_core.payments.ports.webhooks import ReceivedWebhook
from tests.conftest import PgSchema

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def webhook(event_id: str, payload: bytes | None = None) -> ReceivedWebhook:
    body = payload or f'{{"id": "{event_id}", "type": "charge.succeeded"}}'.encode()
    return ReceivedWebhook(
        gateway="stripe", event_id=event_id, type="charge.succeeded", payload=body
    )


async def test_a_row_postgres_refuses_fails_alone_and_the_others_are_stored(
    pg_schema: PgSchema,
) -> None:
    pool = await pg_schema.pool(max_size=4)
    try:
        inbox = PostgresWebhookInbox(pool)
        # valid JSON, but jsonb refuses \u0000 in a string
        refused = webhook("evt_bad", b'{"id": "evt_bad", "note": "\\u0000"}')
        adds = [inbox.add(webhook(f"evt_{n}"), id=uuid.uuid4(), at=AT) for n in range(20)]
        adds.insert(10, inbox.add(refused, id=uuid.uuid4(), at=AT))

        outcomes = await asyncio.gather(*adds, return_exceptions=True)

        [error] = [o for o in outcomes if isinstance(o, BaseException)]
        assert isinstance(error, asyncpg.PostgresError)
        assert outcomes.count(True) == 20
        async with pool.acquire() as conn:
            stored = await conn.fetchval("SELECT count(*) FROM webhook_events")
        assert stored == 20
    finally:
        await pool.close()


@pytest.mark.parametrize("deliveries", [1, 50])
async def test_every_delivery_gets_its_own_answer(pg_schema: PgSchema, deliveries: int) -> None:
    pool = await pg_schema.pool(max_size=4)
    try:
        inbox = PostgresWebhookInbox(pool)
        first = await asyncio.gather(
            *(inbox.add(webhook(f"evt_{n}"), id=uuid.uuid4(), at=AT) for n in range(deliveries))
        )
        again = await asyncio.gather(
            *(inbox.add(webhook(f"evt_{n}"), id=uuid.uuid4(), at=AT) for n in range(deliveries))
        )

        assert (first, again) == ([True] * deliveries, [False] * deliveries)
    finally:
        await pool.close()
