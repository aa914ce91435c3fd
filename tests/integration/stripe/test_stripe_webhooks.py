"""End to end: a 3-D Secure payment through localstripe, whose signed
``payment_intent.succeeded`` localstripe itself posts to the service (served by granian on
a real port), ends in a paid order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.memory.clock import RandomIds, SystemClock
from adapters.postgres.tenants import PostgresTenants
from entrypoints.tenancy import create_tenant
from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.http.conftest import bearer
from tests.integration.stripe.server import SECRET_KEY, THREE_DS_CARD, LocalStripe
from tests.integration.webhook_app import Server
from tests.stripe_events import SECRET

HOOK = "commerce-core-e2e"
DEADLINE = 30.0  # localstripe posts about a second after the event


@pytest.fixture
def server(pg_schema: PgSchema, localstripe: LocalStripe, tmp_path: Path) -> Iterator[Server]:
    localstripe.clear()
    env = {
        "DATABASE_URL": TEST_DATABASE_URL,
        "DATABASE_SCHEMA": pg_schema.name,
        "EVENT_STORE": "postgres",
        "PAYMENT_GATEWAY": "stripe",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_REDIRECT_FREE": "false",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "DATA_DIR": str(tmp_path),
        "API_KEY_CACHE_TTL": "0",
    }
    running = Server(env, tmp_path / "server.log")
    yield running
    running.stop()


@pytest.fixture
async def subscribed(localstripe: LocalStripe, server: Server) -> AsyncIterator[None]:
    """localstripe posts payment events to the server (and, afterwards, to nobody)."""
    url = f"{server.url}/api/v1/webhooks/stripe"
    async with httpx.AsyncClient(base_url=localstripe.url, timeout=10.0) as client:
        hook = {"url": url, "secret": SECRET, "events": ["payment_intent.succeeded"]}
        (await client.post(f"/_config/webhooks/{HOOK}", json=hook)).raise_for_status()
        yield
        # localstripe keeps webhooks for its lifetime: this one matches no event any more
        hook["events"] = ["never.sent"]
        (await client.post(f"/_config/webhooks/{HOOK}", json=hook)).raise_for_status()


async def admin_key(schema: PgSchema) -> str:
    pool = await schema.pool(max_size=2)
    try:
        tenants = PostgresTenants(pool)
        _, issued = await create_tenant(tenants, "e2e", clock=SystemClock(), ids=RandomIds())
        return issued.secret
    finally:
        await pool.close()


async def eventually(check: Any, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE
    while (value := await check()) is None:
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE} s"
        await asyncio.sleep(0.1)
    return value


@pytest.mark.usefixtures("subscribed")
async def test_a_payment_completed_at_stripe_pays_the_order_through_its_webhook(
    server: Server, localstripe: LocalStripe, pg_schema: PgSchema
) -> None:
    key = await admin_key(pg_schema)
    card = await localstripe.card(THREE_DS_CARD)
    async with httpx.AsyncClient(base_url=server.url, headers=bearer(key), timeout=10.0) as api:
        product = {"name": "Mug", "price": {"amount": 1250, "currency": "USD"}}
        assert (await api.put("/api/v1/products/MUG-1", json=product)).status_code == 200
        receipt = await api.post("/api/v1/inventory/MUG-1/receipts", json={"quantity": 5})
        assert receipt.status_code == 201
        placed = await api.post(
            "/api/v1/orders",
            json={
                "customer": {"email": "ada@example.com"},
                "lines": [{"sku": "MUG-1", "quantity": 2}],
                "currency": "USD",
            },
        )
        order = placed.json()
        charged = await api.post(
            "/api/v1/payments/charge",
            json={"order_id": order["id"], "payment_method": {"type": "card", "token": card}},
        )
        payment = charged.json()
        assert (charged.status_code, payment["status"], payment["requires_action"]) == (
            201,
            "pending",
            True,
        )

        await localstripe.authenticate(
            payment["gateway_payment_id"], payment["client_secret"], success=True
        )

        async def paid() -> dict[str, Any] | None:
            seen = (await api.get(f"/api/v1/orders/{order['id']}")).json()
            return seen if seen["status"] == "paid" else None

        paid_order = await eventually(paid, "paid order")
        recorded = (await api.get(f"/api/v1/payments/{payment['id']}")).json()
        [hook] = (await api.get("/api/v1/admin/webhooks")).json()["items"]
        stock = (await api.get("/api/v1/inventory/MUG-1")).json()

    assert paid_order["totals"]["paid"] == paid_order["totals"]["total"] == 2500
    assert (recorded["status"], recorded["captured"]) == ("captured", 2500)
    assert (hook["type"], hook["status"], hook["note"]) == (
        "payment_intent.succeeded",
        "processed",
        "applied",
    )
    assert (stock["on_hand"], stock["reserved"]) == (3, 0)
