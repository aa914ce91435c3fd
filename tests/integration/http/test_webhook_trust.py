"""Which webhooks are believed, over HTTP on PostgreSQL (ADR 0019): no signature dated in the
future, no tenant binding another tenant's payment through its own account, and the events
no tenant owns shown to operators (and only to them)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import pytest

from commerce_core.payments.payment import Payment
from entrypoints.webhook_worker import running_webhook_worker
from entrypoints.webhooks import build_webhooks
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_orders_api import Shop
from tests.integration.http.test_webhooks_api import FAST, PROBLEM, Hooks, _now, event
from tests.integration.webhook_app import with_webhook_routes
from tests.stripe_events import SECRET, StripeEvents, sign

DAY = 24 * 3600
ATTACKER_SECRET = "whsec_attackers_own_account"


@pytest.fixture
async def hooks(make_api: MakeApi) -> AsyncIterator[Hooks]:
    """The app without background workers: the tests run webhook workers themselves."""
    api = await make_api(stripe_webhook_secret=SECRET, run_projections=False)
    with_webhook_routes(api.app)
    webhooks = api.app.state.get("webhooks") or build_webhooks(api.container)
    api.app.state.webhooks = webhooks
    async with AsyncExitStack() as stack:
        yield Hooks(api, webhooks, stack)


@pytest.mark.parametrize("ahead", [DAY, 310])  # 310: beyond 300 s, whatever the rounding
async def test_a_signature_dated_in_the_future_is_refused_and_not_stored(
    hooks: Hooks, ahead: int
) -> None:
    payload = event()

    response = await hooks.post(payload, sign(payload, SECRET, int(time.time()) + ahead))

    assert response.status_code == 400, response.text
    assert response.json()["type"] == PROBLEM + "invalid-signature"
    assert await hooks.webhooks.inbox.find() == []


async def test_a_clock_a_little_ahead_is_still_believed(hooks: Hooks) -> None:
    payload = event()

    response = await hooks.post(payload, sign(payload, SECRET, int(time.time()) + 60))

    assert response.status_code == 200, response.text


async def charged(api: Api, key: str) -> Payment:
    shop = Shop(api, key)
    await shop.stock_product("MUG-1", 1000, 10)
    order = (await shop.order(("MUG-1", 2))).json()
    body = {
        "order_id": order["id"],
        "payment_method": {"type": "card", "token": "tok_visa"},
        "gateway": "stripe",
    }
    paid = await shop.call("POST", "/payments/charge", body)
    assert paid.status_code == 201, paid.text
    payment: Payment = await api.container.repository().get(
        uuid.UUID(paid.json()["id"]), kind=Payment
    )
    return payment


async def bindings(api: Api) -> list[tuple[str, str]]:
    pool = api.container.pool()
    assert pool is not None
    rows = await pool.fetch(
        "SELECT gateway_payment_id, tenant_id FROM gateway_payment_tenants ORDER BY 1"
    )
    return [(r["gateway_payment_id"], r["tenant_id"]) for r in rows]


async def test_another_tenant_s_own_account_cannot_claim_our_payment(hooks: Hooks) -> None:
    api = hooks.api
    victim, victim_admin = await api.tenant("victim")
    attacker, attacker_admin = await api.tenant("attacker")

    async def tenant_secret(tenant_id: uuid.UUID, gateway: str) -> str | None:
        return ATTACKER_SECRET if tenant_id == attacker.id else None

    api.app.state.webhooks = webhooks = replace(hooks.webhooks, tenant_secret=tenant_secret)
    payment = await charged(api, victim_admin)
    gateway_id = payment.gateway_payment_id
    assert gateway_id is not None
    now = int(time.time())
    # 1. the attacker's own account says "this payment is mine", first
    claim = StripeEvents(str(attacker.id), prefix="evt_claim")
    claimed = claim.intent(payment, "succeeded")
    claim_payload = claim.event("payment_intent.succeeded", claimed, _now())
    sent = await hooks.post(
        claim_payload, sign(claim_payload, ATTACKER_SECRET, now), f"stripe/{attacker.id}"
    )
    assert sent.status_code == 200, sent.text
    async with running_webhook_worker(webhooks, FAST):
        await hooks.settled()
    after_claim = await bindings(api)
    # 2. the platform's own event with our metadata, then a refund made in Stripe's
    #    dashboard (no metadata: routed by the gateway payment id alone)
    ours = StripeEvents(str(victim.id), prefix="evt_platform")
    succeeded = ours.event(
        "payment_intent.succeeded",
        ours.intent(payment, "succeeded", amount_received=payment.amount.amount),
        _now(),
    )
    refund = ours.event(
        "refund.created", ours.refund(payment, "re_dashboard_1", 500, "succeeded"), _now()
    )
    assert (await hooks.post(succeeded)).status_code == 200
    async with running_webhook_worker(webhooks, FAST):
        await hooks.settled()
        assert (await hooks.post(refund)).status_code == 200
        await hooks.settled()

    assert after_claim == []
    assert await bindings(api) == [(gateway_id, str(victim.id))]
    refunded = await api.container.repository().get(payment.id, kind=Payment)
    assert refunded.refunded.amount == 500
    seen_by_attacker = await api.client.get(
        "/api/v1/admin/webhooks", headers=bearer(attacker_admin)
    )
    attacker_types = [e["type"] for e in seen_by_attacker.json()["items"]]
    assert attacker_types == ["payment_intent.succeeded"]  # its own event, nothing of ours
    [refund_event] = await hooks.webhooks.inbox.find(limit=1)
    assert refund_event.type == "refund.created"
    assert refund_event.tenant_id == str(victim.id)
    hidden = await api.client.get(
        f"/api/v1/admin/webhooks/{refund_event.id}", headers=bearer(attacker_admin)
    )
    assert hidden.status_code == 404


async def test_a_refund_for_a_payment_only_the_attacker_named_stays_with_nobody(
    hooks: Hooks,
) -> None:
    api = hooks.api
    victim, victim_admin = await api.tenant("victim")
    attacker, attacker_admin = await api.tenant("attacker")

    async def tenant_secret(tenant_id: uuid.UUID, gateway: str) -> str | None:
        return ATTACKER_SECRET if tenant_id == attacker.id else None

    api.app.state.webhooks = webhooks = replace(hooks.webhooks, tenant_secret=tenant_secret)
    payment = await charged(api, victim_admin)
    claim = StripeEvents(str(attacker.id), prefix="evt_claim")
    claim_payload = claim.event(
        "payment_intent.succeeded", claim.intent(payment, "succeeded"), _now()
    )
    header = sign(claim_payload, ATTACKER_SECRET, int(time.time()))
    await hooks.post(claim_payload, header, f"stripe/{attacker.id}")
    refund = StripeEvents(str(victim.id), prefix="evt_platform").event(
        "refund.created", claim.refund(payment, "re_dashboard_2", 500, "succeeded"), _now()
    )
    await hooks.post(refund)
    twice = replace(FAST, policy=replace(FAST.policy, max_attempts=2))
    async with running_webhook_worker(webhooks, twice):
        await hooks.settled()

    [dead] = [e for e in await webhooks.inbox.find() if e.type == "refund.created"]
    assert (dead.status, dead.tenant_id) == ("dead", None)
    listed = await api.client.get("/api/v1/admin/webhooks", headers=bearer(attacker_admin))
    assert [e["type"] for e in listed.json()["items"]] == ["payment_intent.succeeded"]
    refunded = await api.container.repository().get(payment.id, kind=Payment)
    assert refunded.refunded.amount == 0


async def dead_tenantless_event(hooks: Hooks) -> dict[str, Any]:
    """A platform refund of a payment nobody knows: it dies with no tenant."""
    refund = {
        "id": "re_orphan",
        "object": "refund",
        "amount": 100,
        "currency": "usd",
        "payment_intent": "pi_nobody_knows",
        "status": "succeeded",
        "metadata": {},
    }
    payload = StripeEvents("nobody", prefix="evt_orphan").event("refund.created", refund, _now())
    assert (await hooks.post(payload)).status_code == 200
    twice = replace(FAST, policy=replace(FAST.policy, max_attempts=2))
    async with running_webhook_worker(hooks.webhooks, twice):
        await hooks.settled()
    [stored] = await hooks.webhooks.inbox.find()
    assert (stored.status, stored.tenant_id) == ("dead", None)
    return {"id": str(stored.id)}


async def test_operators_see_and_retry_the_dead_events_no_tenant_owns(hooks: Hooks) -> None:
    api = hooks.api
    tenant, admin = await api.tenant("acme")
    operator = bearer(await api.operator_key())
    orphan = await dead_tenantless_event(hooks)
    path = f"/api/v1/admin/webhooks/{orphan['id']}"

    listed = await api.client.get("/api/v1/admin/webhooks?status=dead", headers=operator)
    detail = await api.client.get(path, headers=operator)
    admin_list = await api.client.get("/api/v1/admin/webhooks", headers=bearer(admin))
    admin_detail = await api.client.get(path, headers=bearer(admin))
    admin_retry = await api.client.post(f"{path}/retry", headers=bearer(admin))
    retried = await api.client.post(f"{path}/retry", headers=operator)

    assert [e["id"] for e in listed.json()["items"]] == [orphan["id"]]
    assert detail.json()["payload"]["data"]["object"]["payment_intent"] == "pi_nobody_knows"
    assert admin_list.json() == {"items": [], "next_cursor": None}
    assert (admin_detail.status_code, admin_retry.status_code) == (404, 404)
    assert (retried.status_code, retried.json()["status"]) == (202, "received")
    assert tenant.slug == "acme"


async def test_operators_do_not_see_a_tenant_s_events(hooks: Hooks) -> None:
    api = hooks.api
    tenant, admin = await api.tenant("acme")
    operator = bearer(await api.operator_key())
    payment = await charged(api, admin)
    events = StripeEvents(str(tenant.id))
    ghost = events.intent(payment, "succeeded")
    ghost["metadata"]["payment_id"] = str(uuid.UUID(int=1))  # fails until it dies
    await hooks.post(events.event("payment_intent.succeeded", ghost, _now()))
    twice = replace(FAST, policy=replace(FAST.policy, max_attempts=2))
    async with running_webhook_worker(hooks.webhooks, twice):
        await hooks.settled()
    [owned] = await hooks.webhooks.inbox.find()
    assert owned.tenant_id == str(tenant.id)
    path = f"/api/v1/admin/webhooks/{owned.id}"

    listed = await api.client.get("/api/v1/admin/webhooks", headers=operator)
    detail = await api.client.get(path, headers=operator)
    retry = await api.client.post(f"{path}/retry", headers=operator)
    admin_detail = await api.client.get(path, headers=bearer(admin))

    assert listed.json() == {"items": [], "next_cursor": None}
    assert (detail.status_code, retry.status_code) == (404, 404)
    assert admin_detail.status_code == 200
