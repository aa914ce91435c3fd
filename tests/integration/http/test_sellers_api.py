"""Marketplace sellers over HTTP on PostgreSQL, with the fake marketplace standing in for
Stripe Connect: onboarding, the account enabled by signed ``account.updated`` webhooks
(twice, out of order), payouts, and the problems."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.memory.marketplace import FakeMarketplace
from commerce_core.marketplace.ports import PayoutStatus
from commerce_core.shared.money import Money
from entrypoints.webhook_worker import running_webhook_worker
from tests.integration.http.conftest import MakeApi, bearer
from tests.integration.http.test_webhooks_api import FAST, Hooks
from tests.stripe_events import SECRET, StripeEvents, sign

PROBLEM = "https://commerce-core.dev/problems/"
LINKS = {
    "refresh_url": "https://shop.example.com/onboarding/retry",
    "return_url": "https://shop.example.com/onboarding/done",
}


@pytest.fixture
async def hooks(make_api: MakeApi) -> AsyncIterator[Hooks]:
    """The app on the fake gateway, its webhook worker running."""
    api = await make_api(
        stripe_webhook_secret=SECRET, payment_gateway="fake", run_projections=False
    )
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(running_webhook_worker(api.app.state.webhooks, FAST))
        yield Hooks(api, api.app.state.webhooks, stack)


class Market:
    """One tenant's calls, and Stripe's side: the fake marketplace and signed events."""

    def __init__(self, hooks: Hooks, tenant_id: str, key: str) -> None:
        self.hooks = hooks
        self.auth = bearer(key)
        self.events = StripeEvents(tenant_id)
        marketplace = hooks.api.app.state.services.gateways.marketplace
        assert isinstance(marketplace, FakeMarketplace)
        self.stripe = marketplace

    async def call(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        return await self.hooks.api.client.request(
            method, f"/api/v1{path}", json=body, headers={**self.auth, **headers}
        )

    async def onboard(self, seller_id: str = "seller-1", **body: Any) -> httpx.Response:
        request = {"country": "GB", "email": "ada@example.com", **LINKS, **body}
        return await self.call("POST", f"/sellers/{seller_id}/stripe-onboard", request)

    async def account_updated(
        self, account_id: str, enabled: bool, at: datetime, seller_id: str = "seller-1"
    ) -> bytes:
        account = self.events.account(account_id, enabled, enabled, seller_id)
        return self.events.event("account.updated", account, at)

    async def deliver(self, *payloads: bytes) -> None:
        for payload in payloads:
            header = sign(payload, SECRET, int(time.time()))
            answer = await self.hooks.post(payload, header)
            assert answer.status_code == 200, answer.text
        await self.hooks.settled()


@pytest.fixture
async def market(hooks: Hooks) -> Market:
    tenant, key = await hooks.api.tenant("market")
    return Market(hooks, str(tenant.id), key)


async def test_a_seller_is_onboarded_enabled_by_webhooks_and_paid_out(market: Market) -> None:
    opened = await market.onboard()
    again = await market.onboard()
    body = opened.json()
    account_id = body["account_id"]
    before = (await market.call("GET", "/sellers/seller-1")).json()
    now = datetime.now(UTC)
    newer = await market.account_updated(account_id, True, now)
    older = await market.account_updated(account_id, False, now - timedelta(seconds=30))
    await market.deliver(newer, older, newer, older)  # twice, the older one last
    enabled = (await market.call("GET", "/sellers/seller-1")).json()
    market.stripe.add_payout(account_id, Money(5_000, "GBP"), PayoutStatus.PAID, date(2026, 5, 6))
    market.stripe.add_payout(
        account_id, Money(700, "GBP"), PayoutStatus.FAILED, date(2026, 5, 7), "account_closed"
    )
    payouts = await market.call("GET", "/sellers/seller-1/payouts?limit=5")

    assert (opened.status_code, again.status_code) == (201, 200), opened.text
    assert body["seller_id"] == "seller-1"
    assert (body["gateway"], account_id.startswith("acct_")) == ("stripe", True)
    assert body["onboarding_url"].startswith("https://")
    assert datetime.fromisoformat(body["onboarding_url_expires_at"]) > now
    assert (body["charges_enabled"], body["payouts_enabled"], body["details_submitted"]) == (
        False,
        False,
        False,
    )
    assert again.json()["account_id"] == account_id
    assert again.json()["onboarding_url"] != body["onboarding_url"]
    assert market.stripe.metadata_of(account_id)["seller_id"] == "seller-1"
    assert (before["charges_enabled"], before["state_as_of"]) == (False, None)
    assert (enabled["charges_enabled"], enabled["payouts_enabled"]) == (True, True)
    assert (enabled["country"], enabled["requirements_due"]) == ("GB", [])
    assert payouts.status_code == 200, payouts.text
    listed = payouts.json()
    assert (listed["seller_id"], listed["payouts_enabled"]) == ("seller-1", True)
    assert [(p["amount"], p["status"], p["failure_code"]) for p in listed["payouts"]] == [
        ({"amount": 700, "currency": "GBP"}, "failed", "account_closed"),
        ({"amount": 5_000, "currency": "GBP"}, "paid", None),
    ]
    assert listed["payouts"][0]["arrival_date"] == "2026-05-07"
    stored = await market.hooks.webhooks.inbox.find(tenant_id=market.events.tenant_id)
    assert [e.status for e in stored] == ["processed", "processed"]  # each delivery once


async def test_a_refresh_reads_the_account_when_webhooks_went_missing(market: Market) -> None:
    account_id = (await market.onboard()).json()["account_id"]
    market.stripe.complete_onboarding(account_id)

    refreshed = await market.call("POST", "/sellers/seller-1/refresh")

    assert refreshed.status_code == 200, refreshed.text
    assert (refreshed.json()["charges_enabled"], refreshed.json()["details_submitted"]) == (
        True,
        True,
    )
    assert (await market.call("GET", "/sellers/seller-1")).json()["payouts_enabled"] is True


async def test_an_account_we_did_not_open_is_ignored_not_failed(market: Market) -> None:
    account_id = (await market.onboard()).json()["account_id"]
    events = market.events
    foreign = events.event(
        "account.updated", events.account(account_id, True, True), datetime.now(UTC)
    )

    await market.deliver(foreign)

    [stored] = await market.hooks.webhooks.inbox.find()
    assert (stored.status, stored.note) == (
        "processed",
        "ignored: an account we did not open (no seller metadata)",
    )
    assert (await market.call("GET", "/sellers/seller-1")).json()["charges_enabled"] is False


async def test_an_onboarding_with_an_idempotency_key_is_replayed(market: Market) -> None:
    request = {"country": "GB", **LINKS}
    path = "/sellers/seller-9/stripe-onboard"

    first = await market.call("POST", path, request, **{"Idempotency-Key": "onboard-9"})
    replay = await market.call("POST", path, request, **{"Idempotency-Key": "onboard-9"})

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert market.stripe.account_count == 1


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"country": "ZZ"}, id="unassigned-country"),
        pytest.param({"country": "gb"}, id="lower-case-country"),
        pytest.param({"country": "GBR"}, id="alpha-3-country"),
        pytest.param({"refresh_url": "ftp://shop.example.com/x"}, id="ftp-url"),
        pytest.param({"return_url": "shop.example.com/done"}, id="relative-url"),
        pytest.param({"email": "not-an-email"}, id="bad-email"),
        pytest.param({"extra": True}, id="unknown-field"),
    ],
)
async def test_a_bad_onboarding_request_is_a_validation_problem(
    market: Market, body: dict[str, Any]
) -> None:
    answer = await market.onboard(**body)

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == PROBLEM + "validation-error"
    assert market.stripe.account_count == 0


async def test_an_unknown_seller_or_another_tenant_s_is_not_found(market: Market) -> None:
    await market.onboard()
    _, other_key = await market.hooks.api.tenant("other")
    other = Market(market.hooks, "other", other_key)

    answers = [
        await market.call("GET", "/sellers/nobody"),
        await market.call("GET", "/sellers/nobody/payouts"),
        await market.call("POST", "/sellers/nobody/refresh"),
        await other.call("GET", "/sellers/seller-1"),
        await other.call("GET", "/sellers/seller-1/payouts"),
    ]

    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert answer.json()["type"] == PROBLEM + "seller-not-found"
    assert answers[0].json()["seller_id"] == "nobody"


async def test_sellers_need_an_api_key(market: Market) -> None:
    answer = await market.hooks.api.client.get("/api/v1/sellers/seller-1")

    assert answer.status_code == 401
