"""Stripe webhooks over HTTP on PostgreSQL: signatures, storing once, answering at once, the
worker recording every type in any order, workers stopped mid-work, and the admin routes."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from commerce_core.ordering.order import Order
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.webhooks import WebhookStatus
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.webhook_worker import RetryPolicy, WorkerOptions, running_webhook_worker
from entrypoints.webhooks import Webhooks, build_webhooks
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_orders_api import Shop
from tests.integration.webhook_app import with_webhook_routes
from tests.stripe_events import SECRET, StripeEvents, sign
from tests.stripe_story import ROLES, expected_payments, open_seller, story_events, story_state

PROBLEM = "https://commerce-core.dev/problems/"
OLD_SECRET = "whsec_old_one"
DEADLINE = 30.0  # seconds for the worker to finish what it was given
FAST = WorkerOptions(
    policy=RetryPolicy(max_attempts=50, first_delay=0.02, factor=2.0, max_delay=0.2),
    poll_interval=0.05,
    batch_size=16,
)
S = WebhookStatus


class Hooks:
    """The app with the webhook routes, its webhook parts, and Stripe's side."""

    def __init__(self, api: Api, webhooks: Webhooks, stack: AsyncExitStack) -> None:
        self.api = api
        self.webhooks = webhooks
        self.stack = stack

    async def post(
        self, payload: bytes, signature: str | None = None, gateway: str = "stripe"
    ) -> httpx.Response:
        header = sign(payload, SECRET, int(time.time())) if signature is None else signature
        headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
        return await self.api.client.post(
            f"/api/v1/webhooks/{gateway}", content=payload, headers=headers
        )

    async def start_worker(self, options: WorkerOptions = FAST) -> None:
        await self.stack.enter_async_context(running_webhook_worker(self.webhooks, options))

    async def settled(self) -> None:
        """Returns once nothing waits or failed; the worker must be running."""
        deadline = time.monotonic() + DEADLINE
        while True:
            counts = await self.webhooks.inbox.counts()
            if counts.received == counts.failed == 0:
                return
            assert time.monotonic() < deadline, f"still waiting: {counts}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def hooks(make_api: MakeApi) -> AsyncIterator[Hooks]:
    """The app without background workers: the tests start webhook workers themselves."""
    api = await make_api(stripe_webhook_secret=f"{SECRET},{OLD_SECRET}", run_projections=False)
    with_webhook_routes(api.app)
    webhooks = api.app.state.get("webhooks") or build_webhooks(api.container)
    api.app.state.webhooks = webhooks
    async with AsyncExitStack() as stack:
        yield Hooks(api, webhooks, stack)


def event(type: str = "customer.created", id: str | None = None, **obj: Any) -> bytes:
    events = StripeEvents("t", prefix=id or f"evt_{uuid.uuid4().hex[:10]}")
    return events.event(type, {"id": "cus_1", "object": "customer", **obj}, _now())


def _now() -> datetime:
    return datetime.now(UTC)


async def test_a_signed_event_is_stored_once_and_answered_at_once(hooks: Hooks) -> None:
    payload = event()

    first = await hooks.post(payload)
    again = await hooks.post(payload)

    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    [stored] = await hooks.webhooks.inbox.find()
    assert (stored.status, stored.type, stored.attempts) == (S.RECEIVED, "customer.created", 0)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("", id="missing"),
        pytest.param("t=1,v1=abc", id="garbage"),
        pytest.param("wrong-secret", id="another-secret"),
        pytest.param("stale", id="older-than-5-minutes"),
        pytest.param("tampered", id="body-changed"),
    ],
)
async def test_a_badly_signed_event_is_refused_and_not_stored(hooks: Hooks, signature: str) -> None:
    payload = event()
    now = int(time.time())
    header = {
        "wrong-secret": sign(payload, "whsec_someone_else", now),
        "stale": sign(payload, SECRET, now - 301),
        "tampered": sign(payload + b" ", SECRET, now),
    }.get(signature, signature)

    response = await hooks.post(payload, header)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEM + "invalid-signature"
    assert await hooks.webhooks.inbox.find() == []


async def test_every_configured_secret_and_every_signature_in_the_header_is_tried(
    hooks: Hooks,
) -> None:
    now = int(time.time())
    old = event()
    rotating = event()
    stranger = sign(rotating, "whsec_unknown", now).split(",")[1]
    both = f"{sign(rotating, SECRET, now)},{stranger}"

    by_old_secret = await hooks.post(old, sign(old, OLD_SECRET, now))
    by_both = await hooks.post(rotating, both)

    assert (by_old_secret.status_code, by_both.status_code) == (200, 200)


async def test_an_unknown_gateway_is_not_found_and_a_signed_non_event_is_invalid(
    hooks: Hooks,
) -> None:
    payload = b'{"hello": "world"}'

    unknown = await hooks.post(event(), gateway="paypal")
    not_event = await hooks.post(payload)

    assert unknown.status_code == 404
    assert (not_event.status_code, not_event.json()["type"]) == (422, PROBLEM + "validation-error")


async def test_health_counts_what_waits_and_what_died(hooks: Hooks) -> None:
    assert (await hooks.post(event())).status_code == 200
    broken = StripeEvents("t").event(
        "refund.created", {"id": "re_1", "payment_intent": "pi_1"}, _now()
    )
    assert (await hooks.post(broken)).status_code == 200

    before = (await hooks.api.client.get("/api/v1/webhooks/health")).json()
    await hooks.start_worker()
    await hooks.settled()
    after = (await hooks.api.client.get("/api/v1/webhooks/health")).json()

    assert (before["status"], before["received"], before["dead"]) == ("ok", 2, 0)
    assert before["oldest_pending_seconds"] >= 0
    assert after == {
        "status": "degraded",
        "received": 0,
        "failed": 0,
        "dead": 1,
        "oldest_pending_seconds": None,
    }
    operator = bearer(await hooks.api.operator_key())
    metrics = (await hooks.api.client.get("/metrics", headers=operator)).text
    assert 'webhook_deliveries_total{gateway="stripe",result="stored"} 2.0' in metrics
    assert 'webhook_attempts_total{gateway="stripe",outcome="dead"} 1.0' in metrics
    assert 'webhook_events_waiting{status="dead"} 1.0' in metrics


async def open_story(s: Shop, api: Api) -> dict[str, Payment]:
    """The story's payments, opened over HTTP as ``gateway: stripe`` on the fake gateway."""
    await s.stock_product("MUG-1", 1000, 20)
    opened = {}
    for role, path, token in (
        ("paid", "charge", "tok_3ds"),
        ("declined", "charge", "tok_3ds"),
        ("abandoned", "authorize", "tok_3ds"),
        ("disputed", "charge", "tok_visa"),
        ("released", "authorize", "tok_visa"),
    ):
        order = (await s.order(("MUG-1", 2))).json()
        body = {
            "order_id": order["id"],
            "payment_method": {"type": "card", "token": token},
            "gateway": "stripe",
        }
        paid = await s.call("POST", f"/payments/{path}", body)
        assert paid.status_code == 201, paid.text
        opened[role] = await api.container.repository().get(
            uuid.UUID(paid.json()["id"]), kind=Payment
        )
    return opened


async def test_every_type_sent_twice_in_any_order_over_http_ends_as_stripe_says(
    hooks: Hooks,
) -> None:
    api = hooks.api
    tenant, key = await api.tenant("story")
    s = Shop(api, key)
    opened = await open_story(s, api)
    await open_seller(api.container.repository(), str(tenant.id), _now())
    events = StripeEvents(str(tenant.id))
    # created an hour ago: a refund we do not know is then one made in Stripe's dashboard
    story = story_events(events, opened, _now() - timedelta(hours=1))
    payloads = story * 2
    random.Random(7).shuffle(payloads)

    await hooks.start_worker()
    answers = await asyncio.gather(*(hooks.post(p) for p in payloads))
    await hooks.settled()

    assert sorted(a.json()["duplicate"] for a in answers) == [False] * len(story) + [True] * len(
        story
    )
    ids = {role: p.id for role, p in opened.items()}
    states, seller = await story_state(api.container.repository(), ids, str(tenant.id))
    expected = expected_payments(opened["paid"].amount.amount)
    for role in ROLES:
        state = states[role]
        payment = (state.status, state.captured, state.refunded, state.charged_back)
        assert (*payment, state.decline_code, state.dispute, state.refunds) == expected[role]
    assert seller == (True, True)
    inbox = hooks.webhooks.inbox
    assert len(await inbox.find(status=S.PROCESSED)) == len(story)
    assert (await inbox.counts()).dead == 0


async def test_workers_stopped_at_random_moments_lose_and_double_nothing(hooks: Hooks) -> None:
    api = hooks.api
    tenant, key = await api.tenant("chaos")
    s = Shop(api, key)
    await s.stock_product("MUG-1", 1000, 200)
    events = StripeEvents(str(tenant.id))
    payments = []
    for _ in range(30):
        order = (await s.order(("MUG-1", 2))).json()
        body = {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_3ds"}}
        opened = await s.call("POST", "/payments/charge", {**body, "gateway": "stripe"})
        payments.append(
            await api.container.repository().get(uuid.UUID(opened.json()["id"]), kind=Payment)
        )
    payloads = []
    for payment in payments:
        total = payment.amount.amount
        succeeded = events.intent(payment, "succeeded", amount_received=total)
        charge = events.charge(payment, captured=True, amount_captured=total)
        payloads += [
            events.event("payment_intent.succeeded", succeeded, _now()),
            events.event("charge.succeeded", charge, _now()),
        ]
    for answer in await asyncio.gather(*(hooks.post(p) for p in payloads)):
        assert answer.status_code == 200
    rng = random.Random(11)
    short_lease = replace(FAST, lease=0.3, batch_size=8)

    interrupted = 0
    for _ in range(8):  # a worker runs a random moment, then its process "stops"
        async with running_webhook_worker(hooks.webhooks, short_lease):
            await asyncio.sleep(rng.uniform(0.0, 0.15))
        events_left = await hooks.webhooks.inbox.find(limit=len(payloads))
        interrupted += sum(e.claim is not None for e in events_left)  # claimed, never settled
    await hooks.start_worker(short_lease)
    await hooks.settled()

    repo = api.container.repository()
    for payment in payments:
        paid = await repo.get(payment.id, kind=Payment)
        order = await repo.get(paid.order_id, kind=Order)
        assert (paid.captured, order.paid, order.status) == (paid.amount, paid.amount, "paid")
    stock = (await s.call("GET", "/inventory/MUG-1")).json()
    assert stock["on_hand"] == 200 - 2 * len(payments)
    assert (await hooks.webhooks.inbox.counts()).dead == 0
    assert interrupted > 0


async def test_two_workers_at_once_record_each_event_once_and_each_payment_in_order(
    hooks: Hooks,
) -> None:
    api = hooks.api
    tenant, key = await api.tenant("pair")
    s = Shop(api, key)
    events = StripeEvents(str(tenant.id))
    payments = []
    for n in range(24):  # each order of its own SKU, but two orders share MUG-0's stock
        sku = f"MUG-{n if n % 12 else 0}"
        if n != 12:
            await s.stock_product(sku, 1000, 10)
        order = (await s.order((sku, 2))).json()
        body = {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_3ds"}}
        opened = await s.call("POST", "/payments/charge", {**body, "gateway": "stripe"})
        payments.append(
            await api.container.repository().get(uuid.UUID(opened.json()["id"]), kind=Payment)
        )
    payloads = []
    for payment in payments:
        total = payment.amount.amount
        succeeded = events.intent(payment, "succeeded", amount_received=total)
        refund = events.refund(payment, f"re_{payment.id.hex[:8]}", 300, "succeeded")
        payloads += [  # the refund (made at the gateway) arrives after the capture
            events.event("payment_intent.succeeded", succeeded, _now()),
            events.event("refund.updated", refund, _now()),
        ]
    for payload in payloads:  # in this order: the refund's ordering key waits for the capture
        assert (await hooks.post(payload)).status_code == 200
    batches = replace(FAST, batch_size=8)

    async with AsyncExitStack() as two:  # two workers of two loops each, as two processes
        for _ in range(2):
            await two.enter_async_context(
                running_webhook_worker(hooks.webhooks, batches, workers=2)
            )
        await hooks.settled()

    stored = await hooks.webhooks.inbox.find(limit=100)
    assert {(e.status, e.note) for e in stored} == {(S.PROCESSED, "applied")}
    store = api.container.event_store()
    for payment in payments:
        types = [r.type.rsplit(".", 1)[-1] for r in await store.read_stream(payment.id)]
        assert types[-3:] == ["Captured", "RefundRequested", "RefundSucceeded"], types
        assert types.count("Captured") == types.count("RefundSucceeded") == 1
    stock = (await s.call("GET", "/inventory/MUG-0")).json()
    assert stock["on_hand"] == 10 - 2 * 2


async def test_admins_list_their_tenant_s_failed_events_and_retry_them(hooks: Hooks) -> None:
    api = hooks.api
    tenant, admin = await api.tenant("ops")
    other, other_admin = await api.tenant("other")
    staff = await api.key(tenant, Role.STAFF)
    s = Shop(api, admin)
    await s.stock_product("MUG-1", 1000, 5)
    order = (await s.order(("MUG-1", 2))).json()
    body = {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}}
    opened = (await s.call("POST", "/payments/charge", {**body, "gateway": "stripe"})).json()
    payment = await api.container.repository().get(uuid.UUID(opened["id"]), kind=Payment)
    events = StripeEvents(str(tenant.id))
    # metadata naming a payment that does not exist: it fails until it dies
    ghost = events.intent(payment, "succeeded")
    ghost["metadata"]["payment_id"] = str(uuid.UUID(int=1))
    assert (
        await hooks.post(events.event("payment_intent.succeeded", ghost, _now()))
    ).status_code == 200
    twice = replace(FAST, policy=replace(FAST.policy, max_attempts=2))
    async with running_webhook_worker(hooks.webhooks, twice):
        await hooks.settled()

    listed = await api.client.get("/api/v1/admin/webhooks?status=dead", headers=bearer(admin))
    elsewhere = await api.client.get("/api/v1/admin/webhooks", headers=bearer(other_admin))
    forbidden = await api.client.get("/api/v1/admin/webhooks", headers=bearer(staff))
    [dead] = listed.json()["items"]
    path = f"/api/v1/admin/webhooks/{dead['id']}"
    detail = await api.client.get(path, headers=bearer(admin))
    hidden = await api.client.get(path, headers=bearer(other_admin))
    retried = await api.client.post(f"{path}/retry", headers=bearer(admin))
    waiting = await api.client.post(f"{path}/retry", headers=bearer(admin))
    async with running_webhook_worker(hooks.webhooks, twice):
        await hooks.settled()
    died_again = (await api.client.get(path, headers=bearer(admin))).json()

    assert (dead["type"], dead["status"], dead["attempts"]) == (
        "payment_intent.succeeded",
        "dead",
        2,
    )
    assert "no payment recorded yet" in dead["last_error"]
    assert elsewhere.json() == {"items": [], "next_cursor": None}
    assert other.id != tenant.id
    assert forbidden.status_code == 403
    assert detail.json()["payload"]["data"]["object"]["id"] == payment.gateway_payment_id
    assert hidden.status_code == 404
    assert (retried.status_code, retried.json()["status"], retried.json()["attempts"]) == (
        202,
        "received",
        0,
    )
    assert (waiting.status_code, waiting.json()["type"]) == (409, PROBLEM + "conflict")
    assert (died_again["status"], died_again["attempts"]) == ("dead", 2)


async def test_a_tenant_s_own_account_posts_to_its_endpoint_with_its_own_secret(
    hooks: Hooks,
) -> None:
    own, stranger = uuid.uuid4(), uuid.uuid4()
    own_secret = "whsec_tenant_own"

    async def tenant_secret(tenant_id: uuid.UUID, gateway: str) -> str | None:
        return own_secret if (tenant_id, gateway) == (own, "stripe") else None

    hooks.api.app.state.webhooks = replace(hooks.webhooks, tenant_secret=tenant_secret)
    now = int(time.time())
    payload = event()

    platform_signed = await hooks.post(payload, sign(payload, SECRET, now), f"stripe/{own}")
    unknown_tenant = await hooks.post(payload, sign(payload, own_secret, now), f"stripe/{stranger}")
    accepted = await hooks.post(payload, sign(payload, own_secret, now), f"stripe/{own}")
    on_platform = await hooks.post(payload, sign(payload, own_secret, now))

    assert (platform_signed.status_code, unknown_tenant.status_code) == (400, 400)
    assert (accepted.status_code, on_platform.status_code) == (200, 400)
    [stored] = await hooks.webhooks.inbox.find()
    assert stored.tenant_id == str(own)
