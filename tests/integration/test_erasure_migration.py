"""Migration 0016 on rows stored before it: idempotent responses and webhook payloads kept in
plain text lose their personal data, and its SQL scrub drops exactly what the Stripe adapter
drops before storing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from adapters.payments.stripe_personal_data import PERSONAL_FIELDS, without_personal_data
from adapters.postgres.migrate import migration_files
from tests.conftest import TEST_DATABASE_URL, PgSchema

ERASURE = "0016_erasure"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
async def before_0016() -> AsyncIterator[tuple[asyncpg.Connection, str]]:
    """A schema migrated up to (not including) 0016, and the text of 0016."""
    schema = PgSchema(TEST_DATABASE_URL, f"test_{uuid.uuid4().hex[:12]}")
    admin = await asyncpg.connect(TEST_DATABASE_URL)
    await admin.execute(f"CREATE SCHEMA {schema.name}")
    await admin.close()
    conn = await schema.connect()
    try:
        files = dict(migration_files())
        for name, sql in files.items():
            if name < ERASURE:
                await conn.execute(sql)
        yield conn, files[ERASURE]
    finally:
        await conn.close()
        await schema.drop()


def personal_payload() -> dict[str, Any]:
    """Every personal key at the top, nested, in a list, and inside metadata."""
    nested = {key: f"secret-{key}" for key in PERSONAL_FIELDS}
    return {
        "id": "evt_1",
        "type": "charge.succeeded",
        "data": {
            "object": {
                "id": "ch_1",
                "amount": 1500,
                "currency": "usd",
                "metadata": {"tenant_id": "t1", "name": "kept: we set it"},
                "refunds": {"data": [{"id": "re_1", **nested}, 7, None, "x"]},
                "outcome": {"type": "authorized", "deep": [[nested]]},
                **nested,
            }
        },
        **nested,
    }


async def test_0016_replaces_stored_responses_and_scrubs_stored_webhooks(
    before_0016: tuple[asyncpg.Connection, str],
) -> None:
    conn, erasure = before_0016
    tenant = uuid.uuid4()
    await conn.execute(
        "INSERT INTO idempotency_keys (tenant_id, key, request_hash, token, created_at,"
        " expires_at, locked_until, status, body, content_type)"
        " VALUES ($1, 'done', 'h', $2, $3, $4, $3, 201, $5, 'application/json'),"
        "        ($1, 'running', 'h', $2, $3, $4, $4, NULL, NULL, NULL)",
        tenant,
        uuid.uuid4(),
        NOW,
        NOW + timedelta(hours=24),
        b'{"email": "ada@example.com"}',
    )
    await conn.execute(
        "INSERT INTO webhook_events (id, gateway, event_id, type, payload, status, received_at)"
        " VALUES ($1, 'stripe', 'evt_1', 'charge.succeeded', $2::jsonb, 'processed', $3)",
        uuid.uuid4(),
        msgspec.json.encode(personal_payload()).decode(),
        NOW,
    )

    await conn.execute(erasure)

    done = await conn.fetchrow("SELECT * FROM idempotency_keys WHERE key = 'done'")
    assert done is not None
    assert (done["status"], done["content_type"], done["sealed_for"]) == (
        410,
        "application/problem+json",
        None,
    )
    problem = msgspec.json.decode(done["body"])
    assert problem["type"] == "https://commerce-core.dev/problems/idempotent-response-erased"
    running = await conn.fetchrow("SELECT * FROM idempotency_keys WHERE key = 'running'")
    assert running is not None
    assert (running["status"], running["body"]) == (None, None)  # still in progress: untouched
    stored = msgspec.json.decode(await conn.fetchval("SELECT payload::text FROM webhook_events"))
    assert "secret-" not in msgspec.json.encode(stored).decode().replace("kept: we set it", "")
    assert stored == without_personal_data(personal_payload())
    assert stored["data"]["object"]["metadata"] == {"tenant_id": "t1", "name": "kept: we set it"}
    assert stored["data"]["object"]["amount"] == 1500


async def test_the_sql_scrub_and_the_adapters_agree_on_any_json(pg_schema: PgSchema) -> None:
    conn = await pg_schema.connect()
    try:
        samples: list[Any] = [
            personal_payload(),
            {},
            [],
            [{"email": "a"}, {"emails": "kept"}],
            {"metadata": {"email": "kept"}, "x": {"metadata": {"phone": "kept"}}},
            "plain",
            12,
            None,
            {"a": {"b": {"c": {"address": {"line1": "x"}, "d": [1, {"name": "n"}]}}}},
        ]
        for sample in samples:
            text = msgspec.json.encode(sample).decode()
            scrubbed = await conn.fetchval("SELECT scrub_personal_data($1::jsonb)::text", text)
            assert msgspec.json.decode(scrubbed) == without_personal_data(sample), sample
    finally:
        await conn.close()
