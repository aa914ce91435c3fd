"""Payment administration over HTTP on PostgreSQL: gateway accounts, fee terms,
reconciliation reports, manual payments, and the jobs on the app's adapters."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.memory.clock import FixedClock
from adapters.payments.stripe import StripeGateway
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.jobs import JobDeps, run_job
from tests.integration.http.conftest import Api, bearer

PROBLEM = "https://commerce-core.dev/problems/"
STRIPE = {
    "secret_key": "sk_test_51Hx0123456789",
    "webhook_secret": "whsec_0123456789abcdef",
    "publishable_key": "pk_test_51Hx0123456789",
}
WAIT = 20.0


class Tenant:
    def __init__(self, api: Api, tenant_id: uuid.UUID, key: str) -> None:
        self.api = api
        self.id = tenant_id
        self.auth = bearer(key)

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.api.client.request(method, f"/api/v1{path}", json=body, headers=self.auth)

    async def as_role(self, role: Role) -> Tenant:
        tenant = await self.api.container.tenants().get_tenant(self.id)
        assert tenant is not None
        return Tenant(self.api, self.id, await self.api.key(tenant, role))

    async def order(self, quantity: int = 1, **extra: Any) -> dict[str, Any]:
        body = {
            "customer": {"email": "ada@example.com"},
            "lines": [{"sku": "MUG-1", "quantity": quantity}],
            "currency": "USD",
            **extra,
        }
        placed = await self.call("POST", "/orders", body)
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
        return order


async def a_tenant(api: Api, slug: str = "shop") -> Tenant:
    tenant, key = await api.tenant(slug)
    shop = Tenant(api, tenant.id, key)
    product = {"name": "Mug", "price": {"amount": 1000, "currency": "USD"}}
    assert (await shop.call("PUT", "/products/MUG-1", product)).status_code == 200
    assert (await shop.call("POST", "/inventory/MUG-1/receipts", {"quantity": 10})).is_success
    return shop


async def an_operator(api: Api) -> Tenant:
    """An operator's key (its tenant is the platform's own)."""
    key = await api.operator_key()
    return Tenant(api, uuid.UUID(int=0), key)


async def readable(api: Api, stream_id: uuid.UUID) -> None:
    """Returns once readers of the whole log (projections, reconciliation) see the stream's
    last event. Not the store's head: a transaction open anywhere on the server holds the
    head back while this event is committed already."""
    last = (await api.container.event_store().read_stream(stream_id))[-1]
    async with asyncio.timeout(WAIT):
        await api.app.state.projections.wait_for("order_list", last.position)


async def test_a_tenants_gateway_account_is_stored_sealed_and_shown_without_secrets(
    api: Api,
) -> None:
    shop = await a_tenant(api)

    stored = await shop.call("PUT", "/admin/gateways/stripe", STRIPE)

    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert (body["gateway"], body["enabled"]) == ("stripe", True)
    assert datetime.fromisoformat(body["configured_at"]).tzinfo is not None
    listed = await shop.call("GET", "/admin/gateways")
    assert [g["gateway"] for g in listed.json()] == ["stripe"]
    for text in (stored.text, listed.text):
        assert STRIPE["secret_key"] not in text
        assert STRIPE["webhook_secret"] not in text
    pool = api.container.pool()
    assert pool is not None
    row = await pool.fetchrow("SELECT * FROM gateway_configs")
    assert row is not None
    assert STRIPE["secret_key"].encode() not in bytes(row["sealed_credentials"])


async def test_the_tenants_payments_then_go_through_its_own_account(api: Api) -> None:
    shop = await a_tenant(api)
    other = await a_tenant(api, "other")
    resolver = api.container.gateway_resolver()
    assert await resolver.for_tenant(shop.id) is resolver.default

    await shop.call("PUT", "/admin/gateways/stripe", STRIPE)

    own = await resolver.for_tenant(shop.id)
    assert isinstance(own, StripeGateway)
    assert await resolver.for_tenant(other.id) is resolver.default
    await shop.call("PUT", "/admin/gateways/stripe", {**STRIPE, "enabled": False})
    assert await resolver.for_tenant(shop.id) is resolver.default
    await resolver.close()


@pytest.mark.parametrize(
    "body",
    [
        {**STRIPE, "secret_key": "pk_test_not_secret"},
        {**STRIPE, "webhook_secret": ""},
        {"secret_key": STRIPE["secret_key"]},
        {**STRIPE, "surprise": 1},
    ],
)
async def test_a_gateway_account_that_is_not_one_is_refused(api: Api, body: dict[str, Any]) -> None:
    shop = await a_tenant(api)

    refused = await shop.call("PUT", "/admin/gateways/stripe", body)

    assert refused.status_code == 422, refused.text
    assert (await shop.call("GET", "/admin/gateways")).json() == []


async def test_only_stripe_accounts_can_be_configured(api: Api) -> None:
    shop = await a_tenant(api)

    refused = await shop.call("PUT", "/admin/gateways/paypal", STRIPE)

    assert refused.status_code == 422
    assert refused.json()["type"] == PROBLEM + "validation-error"


async def test_one_gateway_account_is_shown_without_secrets_to_its_tenant_only(
    api: Api,
) -> None:
    shop, other = await a_tenant(api), await a_tenant(api, "other-shop")
    await shop.call("PUT", "/admin/gateways/stripe", STRIPE)

    shown = await shop.call("GET", "/admin/gateways/stripe")
    elsewhere = await other.call("GET", "/admin/gateways/stripe")
    never = await shop.call("GET", "/admin/gateways/adyen")

    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert set(body) == {"gateway", "enabled", "configured_at", "publishable_key"}
    assert (body["gateway"], body["enabled"]) == ("stripe", True)
    assert body["publishable_key"] == STRIPE["publishable_key"]
    assert STRIPE["secret_key"] not in shown.text
    assert STRIPE["webhook_secret"] not in shown.text
    for missing in (elsewhere, never):
        assert missing.status_code == 404, missing.text
        assert missing.json()["type"] == PROBLEM + "not-found"
        assert missing.json()["request_id"]
    assert "PUT /admin/gateways/adyen" in never.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/admin/gateways/stripe", STRIPE),
        ("GET", "/admin/gateways", None),
        ("GET", "/admin/gateways/stripe", None),
        ("GET", "/admin/fee-tiers", None),
        ("PUT", "/admin/tenants/{tenant}/fee-tiers", {"tier": "enterprise"}),
        ("GET", "/admin/reconciliation/2026-01-01", None),
    ],
)
async def test_payment_administration_needs_an_admin_key(
    api: Api, method: str, path: str, body: Any
) -> None:
    admin = await a_tenant(api)
    path = path.replace("{tenant}", str(admin.id))
    for role in (Role.STAFF, Role.SERVICE):
        caller = await admin.as_role(role)

        refused = await caller.call(method, path, body)

        assert refused.status_code == 403, refused.text
        assert refused.json()["type"] == PROBLEM + "forbidden"


async def test_fee_terms_are_shown_changed_and_used_for_new_payments(api: Api) -> None:
    shop = await a_tenant(api)
    shown = (await shop.call("GET", "/admin/fee-tiers")).json()
    assert shown["tier"] == "starter"
    assert shown["override"] is None
    assert {t["tier"]: t["basis_points"] for t in shown["tiers"]} == {
        "starter": 300,
        "professional": 150,
        "enterprise": 50,
    }

    operator = await an_operator(api)
    terms_path = f"/admin/tenants/{shop.id}/fee-tiers"
    changed = await operator.call(
        "PUT", terms_path, {"tier": "professional", "override": {"basis_points": 100}}
    )

    assert changed.status_code == 200, changed.text
    terms = changed.json()
    assert (terms["tier"], terms["override"]) == (
        "professional",
        {"basis_points": 100, "fixed": None},
    )
    assert terms["effective"] == {"basis_points": 100, "fixed": 0}
    order = await shop.order(2)
    paid = await shop.call(
        "POST",
        f"/orders/{order['id']}/payments/manual",
        {"method": "bank_transfer", "reference": "REF-1"},
    )
    assert paid.json()["platform_fee"] == 20  # 1 % of 20.00
    removed = await operator.call("PUT", terms_path, {"override": None})
    assert removed.json()["effective"] == {"basis_points": 150, "fixed": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"tier": "platinum"},
        {"override": {"basis_points": 10_001}},
        {"override": {"fixed": -1}},
        {"discount": True},
    ],
)
async def test_impossible_fee_terms_are_refused(api: Api, body: dict[str, Any]) -> None:
    shop = await a_tenant(api)
    operator = await an_operator(api)

    refused = await operator.call("PUT", f"/admin/tenants/{shop.id}/fee-tiers", body)

    assert refused.status_code == 422, refused.text
    assert (await shop.call("GET", "/admin/fee-tiers")).json()["tier"] == "starter"


async def test_a_bank_transfer_pays_the_order_and_is_recorded_once(api: Api) -> None:
    shop = await a_tenant(api)
    order = await shop.order(2, payment_method="bank_transfer")
    path = f"/orders/{order['id']}/payments/manual"
    receipt = {"method": "bank_transfer", "reference": "BANK-2026-0001"}

    paid = await shop.call("POST", path, receipt)

    assert paid.status_code == 201, paid.text
    payment = paid.json()
    assert (payment["method"], payment["gateway"], payment["status"]) == (
        "bank_transfer",
        "bank_transfer",
        "captured",
    )
    assert (payment["captured"], payment["gateway_payment_id"]) == (2000, "BANK-2026-0001")
    assert (await shop.call("GET", f"/orders/{order['id']}")).json()["status"] == "paid"
    again = await shop.call("POST", path, receipt)
    assert (again.status_code, again.json()["id"]) == (201, payment["id"])
    other = await shop.order(1)
    reused = await shop.call("POST", f"/orders/{other['id']}/payments/manual", receipt)
    assert reused.status_code == 409, reused.text


async def test_cash_collected_and_given_back_by_hand(api: Api) -> None:
    shop = await a_tenant(api)
    staff = await shop.as_role(Role.STAFF)
    order = await shop.order(1, payment_method="cash_on_delivery")

    paid = await staff.call(
        "POST", f"/orders/{order['id']}/payments/manual", {"method": "cash_on_delivery"}
    )
    assert paid.status_code == 201, paid.text
    refund = await staff.call(
        "POST", f"/payments/{paid.json()['id']}/manual-refund", {"amount": 400, "reason": "chip"}
    )

    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount"], refund.json()["status"]) == (400, "succeeded")
    shown = (await shop.call("GET", f"/orders/{order['id']}")).json()
    assert (shown["status"], shown["totals"]["refunded"]) == ("partially_refunded", 400)


@pytest.mark.parametrize(
    "body",
    [
        {"method": "bank_transfer"},
        {"method": "card", "reference": "R"},
        {"method": "bank_transfer", "reference": " padded "},
        {"method": "bank_transfer", "reference": "R", "amount": 0},
    ],
)
async def test_a_receipt_that_is_not_one_is_refused(api: Api, body: dict[str, Any]) -> None:
    shop = await a_tenant(api)
    order = await shop.order(1)

    refused = await shop.call("POST", f"/orders/{order['id']}/payments/manual", body)

    assert refused.status_code == 422, refused.text


async def test_manual_payments_need_a_staff_or_admin_key(api: Api) -> None:
    shop = await a_tenant(api)
    service = await shop.as_role(Role.SERVICE)
    order = await shop.order(1)

    refused = await service.call(
        "POST", f"/orders/{order['id']}/payments/manual", {"method": "cash_on_delivery"}
    )

    assert refused.status_code == 403


async def test_card_payments_are_not_refunded_by_hand(api: Api) -> None:
    shop = await a_tenant(api)
    order = await shop.order(1)
    charged = await shop.call(
        "POST",
        "/payments/charge",
        {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}},
    )
    assert charged.status_code == 201, charged.text

    refused = await shop.call(
        "POST", f"/payments/{charged.json()['id']}/manual-refund", {"amount": 100}
    )

    assert refused.status_code == 409, refused.text
    # the route that does refund a card payment is named
    assert f"POST /api/v1/payments/{charged.json()['id']}/refund" in refused.json()["detail"]


async def test_a_days_reconciliation_is_shown_to_its_tenant_only(api: Api) -> None:
    shop = await a_tenant(api)
    other = await a_tenant(api, "other")
    today = datetime.now(UTC).date()
    path = f"/admin/reconciliation/{today.isoformat()}"
    assert (await shop.call("GET", path)).status_code == 404
    order = await shop.order(1)
    charged = await shop.call(
        "POST",
        "/payments/charge",
        {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}},
    )
    assert charged.status_code == 201, charged.text
    await readable(api, uuid.UUID(charged.json()["id"]))

    outcome = await run_job("reconcile", JobDeps.from_container(api.container), today)

    assert outcome.examined == 1
    report = await shop.call("GET", path)
    assert report.status_code == 200, report.text
    assert report.json()["payments_checked"] == 1
    assert (report.json()["complete"], report.json()["discrepancies"]) == (True, [])
    assert (await other.call("GET", path)).json()["payments_checked"] == 0
    assert (await shop.call("GET", "/admin/reconciliation/2026-13-45")).status_code in (
        400,
        404,
        422,
    )


async def test_the_jobs_cancel_unpaid_card_orders_from_the_read_model(api: Api) -> None:
    shop = await a_tenant(api)
    card = await shop.order(1, payment_method="card")
    by_bank = await shop.order(1, payment_method="bank_transfer")
    await readable(api, uuid.UUID(by_bank["id"]))
    later = FixedClock(datetime.now(UTC) + timedelta(days=2))
    deps = dataclasses.replace(JobDeps.from_container(api.container), clock=later)

    expired = await run_job("expire-reservations", deps)
    cancelled = await run_job("auto-cancel-unpaid", deps)

    assert (expired.changed, cancelled.changed) == (2, 1)
    assert (await shop.call("GET", f"/orders/{card['id']}")).json()["status"] == "cancelled"
    bank = (await shop.call("GET", f"/orders/{by_bank['id']}")).json()
    assert bank["status"] == "pending_payment"
    assert (await shop.call("GET", "/inventory/MUG-1")).json()["reserved"] == 0


async def test_the_openapi_document_describes_the_new_routes(api: Api) -> None:
    document = await api.client.get("/schema/openapi.json")

    assert document.status_code == 200
    paths = document.json()["paths"]
    for path in (
        "/api/v1/admin/gateways/{gateway}",
        "/api/v1/admin/gateways",
        "/api/v1/admin/fee-tiers",
        "/api/v1/admin/reconciliation/{day}",
        "/api/v1/orders/{order_id}/payments/manual",
        "/api/v1/payments/{payment_id}/manual-refund",
    ):
        assert path in paths, path
