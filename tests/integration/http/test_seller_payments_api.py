"""Marketplace payments over HTTP on PostgreSQL: a payment for a ready seller goes to its
account less the platform fee, shows its seller, and its refund is taken back from the seller;
a seller that cannot be paid is refused before any money moves."""

from __future__ import annotations

import uuid

import pytest

from adapters.memory.payment_gateway import FakePaymentGateway
from commerce_core.eventstore import EventMetadata
from commerce_core.marketplace.seller import Seller
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.gateway import Destination
from commerce_core.shared.money import Money
from tests.integration.http.conftest import Api, MakeApi
from tests.integration.http.test_orders_api import Shop

PROBLEM = "https://commerce-core.dev/problems/"
ACCOUNT = "acct_seller_1"


async def save_seller(api: Api, tenant_id: str, seller_id: str, ready: bool) -> None:
    """A seller as onboarding leaves it (onboarding itself is not under test here)."""
    now = api.container.clock().now()
    seller = Seller.open(tenant_id, seller_id, "stripe", ACCOUNT, "US", now)
    seller.record_account_state(ready, ready, ready, now, f"evt_{seller_id}", now)
    await api.container.repository().save(seller, metadata=EventMetadata(tenant_id=tenant_id))


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api(fake_gateway_store="memory")  # the tests read the fake's books


async def market(api: Api) -> tuple[Shop, FakePaymentGateway, str]:
    tenant, key = await api.tenant("market")
    await save_seller(api, str(tenant.id), "seller-1", ready=True)
    await save_seller(api, str(tenant.id), "seller-new", ready=False)
    s = Shop(api, key)
    await s.stock_product("MUG-1", 1000, 10)
    gateway = api.container.payment_gateway()
    assert isinstance(gateway, FakePaymentGateway)
    return s, gateway, str(tenant.id)


async def pay(s: Shop, seller_id: str | None = None, path: str = "charge") -> dict[str, object]:
    order = (await s.order(("MUG-1", 2))).json()
    body = {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}}
    if seller_id is not None:
        body["seller_id"] = seller_id
    response = await s.call("POST", f"/payments/{path}", body)
    return {**response.json(), "http": response.status_code}


async def test_a_charge_for_a_ready_seller_goes_to_its_account_and_its_refund_comes_back(
    api: Api,
) -> None:
    s, gateway, tenant_id = await market(api)

    paid = await pay(s, "seller-1")
    shown = (await s.call("GET", f"/payments/{paid['id']}")).json()
    refunded = await s.call("POST", f"/payments/{paid['id']}/refund", {"amount": 500})

    assert (paid["http"], paid["seller_id"], shown["seller_id"]) == (201, "seller-1", "seller-1")
    fee = shown["platform_fee"]
    assert isinstance(fee, int)
    assert fee > 0
    gateway_id = str(shown["gateway_payment_id"])
    assert gateway.destination_of(gateway_id) == Destination(
        account_id=ACCOUNT, application_fee=Money(fee, "USD")
    )
    assert refunded.status_code == 201, refunded.text
    assert gateway.reversed_from_seller(gateway_id) == Money(500, "USD")
    refund_id = uuid.UUID(refunded.json()["id"])
    payment = await api.container.repository().get(uuid.UUID(str(paid["id"])), kind=Payment)
    gateway_refund = payment.refund_by_id(refund_id).gateway_refund_id
    assert gateway.refund_metadata(gateway_refund or "") == {
        "tenant_id": tenant_id,
        "order_id": shown["order_id"],
        "payment_id": paid["id"],
        "refund_id": str(refund_id),
    }


async def test_a_payment_without_a_seller_shows_none(api: Api) -> None:
    s, gateway, _tenant = await market(api)

    paid = await pay(s)
    shown = (await s.call("GET", f"/payments/{paid['id']}")).json()

    assert (paid["http"], shown["seller_id"]) == (201, None)
    assert gateway.destination_of(str(shown["gateway_payment_id"])) is None


async def test_a_seller_that_cannot_be_paid_is_refused_before_any_money_moves(api: Api) -> None:
    s, gateway, _tenant = await market(api)
    before = gateway.payment_count

    unknown = await pay(s, "seller-nobody", path="authorize")
    not_ready = await pay(s, "seller-new")

    assert (unknown["http"], unknown["type"]) == (404, PROBLEM + "seller-not-found")
    assert (not_ready["http"], not_ready["type"]) == (409, PROBLEM + "seller-not-ready")
    assert gateway.payment_count == before


async def test_another_tenant_s_seller_is_not_found(api: Api) -> None:
    await market(api)  # its seller-1 is ready
    _other, other_key = await api.tenant("elsewhere")
    theirs = Shop(api, other_key)
    await theirs.stock_product("MUG-1", 1000, 10)

    refused = await pay(theirs, "seller-1")

    assert (refused["http"], refused["type"]) == (404, PROBLEM + "seller-not-found")
