"""Orders sold on channels without an adapter, imported over HTTP on PostgreSQL (ADR 0033)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_core.tenancy.ports.tenants import Role
from tests.integration.http.conftest import Api, bearer
from tests.integration.http.test_orders_api import ADDRESS, PROBLEM, Shop, shop


def sale(external_id: str = "E-1001", quantity: int = 2, **extra: Any) -> dict[str, Any]:
    """A sale of MUG-1 (10.00 + 10 % tax each), paid in full on the channel."""
    return {
        "external_id": external_id,
        "lines": [{"sku": "MUG-1", "quantity": quantity}],
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "shipping_address": ADDRESS,
        "paid": {"amount": 1100 * quantity, "currency": "USD"},
        "placed_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        **extra,
    }


async def stocked(api: Api, slug: str = "shop", units: int = 5) -> Shop:
    s = await shop(api, slug)
    await s.stock_product("MUG-1", 1000, units)
    return s


async def test_an_imported_order_is_paid_at_catalog_prices_and_takes_stock(api: Api) -> None:
    s = await stocked(api)
    body = sale(attribution={"source": "etsy", "medium": "marketplace"})

    imported = await s.call("POST", "/channels/etsy/orders", body)

    assert imported.status_code == 201, imported.text
    order = imported.json()
    assert order["status"] == "paid"
    assert (order["totals"]["total"], order["totals"]["paid"]) == (2200, 2200)
    assert order["lines"][0]["unit_price"] == {"amount": 1000, "currency": "USD"}
    assert order["imported"]["channel"] == "etsy"
    assert order["imported"]["external_id"] == "E-1001"
    assert order["attribution"] == {"source": "etsy", "medium": "marketplace"} | {
        k: None
        for k in ("campaign", "term", "content", "referrer", "landing_page", "gbp_location_id")
    }
    stock = (await s.call("GET", "/inventory/MUG-1")).json()
    assert (stock["on_hand"], stock["reserved"]) == (3, 0)
    payments = (await s.call("GET", f"/orders/{order['id']}/payments")).json()
    assert [(p["gateway"], p["gateway_payment_id"], p["captured"]) for p in payments] == [
        ("etsy", "E-1001", 2200)
    ]


async def test_the_same_outside_order_imported_again_is_the_same_order(api: Api) -> None:
    s = await stocked(api)
    body = sale()

    first = await s.call("POST", "/channels/amazon/orders", body)
    again = await s.call("POST", "/channels/amazon/orders", body)

    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["totals"]["paid"] == 2200
    assert (await s.call("GET", "/inventory/MUG-1")).json()["on_hand"] == 3
    payments = (await s.call("GET", f"/orders/{first.json()['id']}/payments")).json()
    assert len(payments) == 1


async def test_one_id_on_two_channels_is_two_orders(api: Api) -> None:
    s = await stocked(api)

    on_ebay = await s.call("POST", "/channels/ebay/orders", sale(quantity=1))
    on_etsy = await s.call("POST", "/channels/etsy/orders", sale(quantity=1))

    assert (on_ebay.status_code, on_etsy.status_code) == (201, 201)
    assert on_ebay.json()["id"] != on_etsy.json()["id"]


async def test_concurrent_imports_of_one_outside_order_make_one_order(api: Api) -> None:
    s = await stocked(api)
    body = sale()

    answers = await asyncio.gather(
        *(s.call("POST", "/channels/walmart/orders", body) for _ in range(6))
    )

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 200, 200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    stock = (await s.call("GET", "/inventory/MUG-1")).json()
    assert (stock["on_hand"], stock["reserved"]) == (3, 0)
    payments = (await s.call("GET", f"/orders/{answers[0].json()['id']}/payments")).json()
    assert [p["amount"] for p in payments] == [2200]


async def test_the_same_external_id_with_another_body_is_a_conflict(api: Api) -> None:
    s = await stocked(api)
    first = await s.call("POST", "/channels/etsy/orders", sale())

    changed = await s.call("POST", "/channels/etsy/orders", sale(quantity=1))

    assert changed.status_code == 409, changed.text
    problem = changed.json()
    assert problem["type"] == PROBLEM + "import-conflict"
    assert problem["order_id"] == first.json()["id"]
    assert "E-1001" in problem["detail"]
    assert first.json()["number"] in problem["detail"]
    assert (await s.call("GET", "/inventory/MUG-1")).json()["on_hand"] == 3


async def test_a_gbp_order_is_attributed_to_its_location(api: Api) -> None:
    s = await stocked(api)
    body = sale(attribution={"gbp_location_id": "locations/4471120983"})

    imported = await s.call("POST", "/channels/gbp/orders", body)

    assert imported.status_code == 201, imported.text
    assert imported.json()["channel"] == "gbp"
    assert imported.json()["attribution"]["gbp_location_id"] == "locations/4471120983"


async def test_not_enough_stock_refuses_the_import_and_records_nothing(api: Api) -> None:
    s = await stocked(api, units=1)

    refused = await s.call("POST", "/channels/amazon/orders", sale())

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == PROBLEM + "insufficient-stock"
    stock = (await s.call("GET", "/inventory/MUG-1")).json()
    assert (stock["on_hand"], stock["reserved"]) == (1, 0)
    retried = await s.call("POST", "/channels/amazon/orders", sale(quantity=1))
    assert retried.status_code == 201, retried.text


async def test_an_order_without_paid_waits_for_payment(api: Api) -> None:
    s = await stocked(api)
    body = sale()
    del body["paid"]

    imported = await s.call("POST", "/channels/other/orders", body)

    assert imported.status_code == 201, imported.text
    assert (imported.json()["status"], imported.json()["totals"]["paid"]) == ("pending_payment", 0)
    assert (await s.call("GET", "/inventory/MUG-1")).json()["reserved"] == 2


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"paid": {"amount": 999_999, "currency": "USD"}}, "more than the order's total"),
        ({"placed_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "future"),
        ({"placed_at": (datetime.now(UTC) - timedelta(days=400)).isoformat()}, "days ago"),
        ({"placed_at": "2026-03-14T09:12:00"}, "placed_at"),
        ({"external_id": "x" * 129}, "external_id"),
        ({"external_id": "has space"}, "external_id"),
        ({"paid": {"amount": -5, "currency": "USD"}}, "paid.amount"),
        ({"paid": {"amount": 2200, "currency": "usd"}}, "paid.currency"),
        ({"paid": {"amount": 22.5, "currency": "USD"}}, "paid.amount"),
        ({"coupon": "FREE"}, "coupon"),
        ({"attribution": {"source": "s" * 201}}, "attribution"),
        ({"attribution": {"utm_source": "google"}}, "utm_source"),
    ],
)
async def test_a_malformed_import_is_refused_and_records_nothing(
    api: Api, change: dict[str, Any], words: str
) -> None:
    s = await stocked(api)

    refused = await s.call("POST", "/channels/etsy/orders", sale(**change))

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == PROBLEM + "validation-error"
    assert words in refused.text
    assert (await s.call("GET", "/inventory/MUG-1")).json()["reserved"] == 0
    assert (await s.call("POST", "/channels/etsy/orders", sale())).status_code == 201


async def test_an_unknown_channel_is_refused(api: Api) -> None:
    s = await stocked(api)

    refused = await s.call("POST", "/channels/myspace/orders", sale())

    assert refused.status_code in (404, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_staff_may_not_import_and_service_keys_may(api: Api) -> None:
    tenant, admin = await api.tenant("shop")
    s = Shop(api, admin)
    await s.stock_product("MUG-1", 1000, 5)
    staff = bearer(await api.key(tenant, Role.STAFF))
    service = bearer(await api.key(tenant, Role.SERVICE))

    by_staff = await api.client.post("/api/v1/channels/etsy/orders", json=sale(), headers=staff)
    by_service = await api.client.post("/api/v1/channels/etsy/orders", json=sale(), headers=service)

    assert by_staff.status_code == 403
    assert by_service.status_code == 201, by_service.text


async def test_another_tenant_importing_the_same_id_gets_its_own_order(api: Api) -> None:
    ours = await stocked(api, "ours")
    theirs = await stocked(api, "theirs")
    mine = await ours.call("POST", "/channels/etsy/orders", sale())

    other = await theirs.call("POST", "/channels/etsy/orders", sale(quantity=1))

    assert other.status_code == 201, other.text
    assert other.json()["id"] != mine.json()["id"]
    assert (await theirs.call("GET", f"/orders/{mine.json()['id']}")).status_code == 404
    assert (await ours.call("GET", f"/orders/{mine.json()['id']}")).json()["totals"]["paid"] == 2200


async def test_concurrent_imports_of_one_id_with_two_bodies_make_one_order(api: Api) -> None:
    s = await stocked(api)
    one, two = sale(quantity=1), sale(quantity=2)

    answers = await asyncio.gather(
        *(s.call("POST", "/channels/ebay/orders", body) for body in (one, two, one, two))
    )

    created = [a for a in answers if a.status_code == 201]
    assert len(created) == 1, [a.text for a in answers]
    winner = created[0].json()
    quantity = winner["lines"][0]["quantity"]
    for body, answer in zip((one, two, one, two), answers, strict=True):
        if answer.status_code == 201:
            continue
        same = body["lines"][0]["quantity"] == quantity
        assert answer.status_code == (200 if same else 409), answer.text
    stock = (await s.call("GET", "/inventory/MUG-1")).json()
    assert (stock["on_hand"], stock["reserved"]) == (5 - quantity, 0)
