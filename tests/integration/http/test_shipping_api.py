"""Delivery zones, quotes at checkout and orders paying a quote, over HTTP on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.memory.clock import FixedClock
from commerce_core.eventstore import START
from commerce_core.tenancy.ports.tenants import Role
from tests.integration.http.conftest import Api, bearer

PROBLEM = "https://commerce-core.dev/problems/"
SF = {
    "name": "Grace Hopper",
    "line1": "1 Market St",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}
NYC = {**SF, "city": "New York", "region": "NY", "postal_code": "10001"}
PARIS = {**SF, "city": "Paris", "region": None, "postal_code": "75001", "country": "FR"}
WAREHOUSE = {**SF, "name": "Warehouse", "line1": "2 Dock Rd", "postal_code": "94607"}

US_ZONE: dict[str, Any] = {
    "name": "United States",
    "countries": ["US"],
    "ship_from": WAREHOUSE,
    "methods": [
        {
            "code": "standard",
            "name": "Standard",
            "price": {"amount": 700, "currency": "USD"},
            "free_over": {"amount": 10_000, "currency": "USD"},
            "delivery_days": [3, 5],
        },
        {
            "code": "ground",
            "name": "Ground",
            "carrier": "fake",
            "service": "standard",
            "handling_fee": {"amount": 150, "currency": "USD"},
            "max_weight_grams": 20_000,
        },
    ],
}
CA_ZONE: dict[str, Any] = {
    "name": "California",
    "countries": ["US"],
    "regions": ["CA"],
    "methods": [
        {
            "code": "standard",
            "name": "Standard (CA)",
            "price": {"amount": 400, "currency": "USD"},
            "free_over": {"amount": 5_000, "currency": "USD"},
        },
        {
            "code": "express",
            "name": "Express",
            "price": {"amount": 1_500, "currency": "USD"},
            "min_subtotal": {"amount": 3_000, "currency": "USD"},
        },
    ],
}


class Shop:
    def __init__(self, api: Api, key: str) -> None:
        self.api = api
        self.auth = bearer(key)

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.api.client.request(method, f"/api/v1{path}", json=body, headers=self.auth)

    async def product(self, sku: str, price: int, weight: int | None = None) -> None:
        body: dict[str, Any] = {"name": sku.title(), "price": {"amount": price, "currency": "USD"}}
        if weight is not None:
            body["weight_grams"] = weight
        put = await self.call("PUT", f"/products/{sku}", body)
        assert put.status_code == 200, put.text
        receipt = await self.call("POST", f"/inventory/{sku}/receipts", {"quantity": 100})
        assert receipt.status_code == 201, receipt.text

    async def zone(self, code: str, body: dict[str, Any]) -> httpx.Response:
        return await self.call("PUT", f"/admin/shipping/zones/{code}", body)

    async def quotes(
        self, lines: list[tuple[str, int]], address: dict[str, Any] = SF
    ) -> httpx.Response:
        return await self.call(
            "POST",
            "/shipping/quotes",
            {
                "lines": [{"sku": s, "quantity": q} for s, q in lines],
                "currency": "USD",
                "shipping_address": address,
            },
        )

    async def quoted(self, lines: list[tuple[str, int]], address: dict[str, Any] = SF) -> Any:
        answer = await self.quotes(lines, address)
        assert answer.status_code == 200, answer.text
        return {quote["method"]: quote for quote in answer.json()["quotes"]}

    async def order(
        self, lines: list[tuple[str, int]], address: dict[str, Any] = SF, **extra: Any
    ) -> httpx.Response:
        body = {
            "customer": {"email": "grace@example.com"},
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "currency": "USD",
            "shipping_address": address,
            **extra,
        }
        return await self.call("POST", "/orders", body)


async def shop_with_zones(api: Api, slug: str = "shop") -> Shop:
    _, key = await api.tenant(slug)
    shop = Shop(api, key)
    await shop.product("MUG-1", 1200, weight=400)
    await shop.product("PLATE-1", 2500, weight=900)
    await shop.product("SPOON-1", 300, weight=50)
    for code, body in (("us", US_ZONE), ("california", CA_ZONE)):
        answer = await shop.zone(code, body)
        assert answer.status_code == 200, answer.text
    return shop


def refused(answer: httpx.Response, slug: str, reason: str | None = None) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == PROBLEM + slug
    if reason is not None:
        assert answer.json()["reason"] == reason


async def test_zone_then_quote_then_an_order_paying_the_quote(api: Api) -> None:
    shop = await shop_with_zones(api)
    zones = (await shop.call("GET", "/admin/shipping/zones")).json()
    assert [z["code"] for z in zones["items"]] == ["us", "california"]
    assert zones["next_cursor"] is None
    shown = (await shop.call("GET", "/admin/shipping/zones/us")).json()
    assert shown["methods"][1]["handling_fee"] == {"amount": 150, "currency": "USD"}

    lines = [("MUG-1", 1), ("PLATE-1", 1), ("SPOON-1", 3)]  # 4,600
    quotes = await shop.quoted(lines)
    # the California zone wins over the country's (region beats country): its methods only
    assert set(quotes) == {"standard", "express"}
    assert quotes["standard"]["price"] == {"amount": 400, "currency": "USD"}
    assert quotes["express"]["price"] == {"amount": 1500, "currency": "USD"}
    assert quotes["standard"]["carrier"] is None
    assert quotes["standard"]["zone"] == "california"

    placed = await shop.order(lines, shipping_quote_id=quotes["express"]["id"])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["totals"]["shipping"] == 1500
    assert order["totals"]["total"] == 4600 + 1500
    detail = (await shop.call("GET", f"/orders/{order['id']}")).json()
    assert detail["totals"]["shipping"] == 1500


async def test_a_carrier_priced_method_costs_the_carriers_rate_plus_the_handling_fee(
    api: Api,
) -> None:
    shop = await shop_with_zones(api)
    # New York: the country zone; the fake carrier's standard is 500 + 100 per started kg
    quotes = await shop.quoted([("PLATE-1", 2)], NYC)  # 1,800 g: 2 kg started
    assert quotes["ground"]["price"] == {"amount": 500 + 200 + 150, "currency": "USD"}
    assert (quotes["ground"]["carrier"], quotes["ground"]["service"]) == ("fake", "standard")
    assert quotes["ground"]["delivery_days"] == [4, 4]
    assert quotes["standard"]["delivery_days"] == [3, 5]

    # ordering by method (no quote) prices it the same way, at that moment
    placed = await shop.order([("PLATE-1", 2)], NYC, shipping_method="ground")
    assert placed.status_code == 201, placed.text
    assert placed.json()["totals"]["shipping"] == 850

    # too heavy for ground (20 kg): only the flat method is left
    heavy = await shop.quoted([("PLATE-1", 23)], NYC)
    assert set(heavy) == {"standard"}


async def test_the_free_shipping_threshold_is_crossed_at_the_subtotal(api: Api) -> None:
    shop = await shop_with_zones(api)
    under = await shop.quoted([("MUG-1", 4)])  # 4,800 < 5,000
    at = await shop.quoted([("MUG-1", 3), ("SPOON-1", 5)])  # 3,600 + 1,500 = 5,100
    assert under["standard"]["price"]["amount"] == 400
    assert at["standard"]["price"]["amount"] == 0
    placed = await shop.order([("MUG-1", 3), ("SPOON-1", 5)], shipping_method="standard")
    assert placed.json()["totals"]["shipping"] == 0
    placed = await shop.order([("MUG-1", 4)], shipping_method="standard")
    assert placed.json()["totals"]["shipping"] == 400


async def test_an_address_outside_every_zone_is_not_deliverable(api: Api) -> None:
    shop = await shop_with_zones(api)
    refused(await shop.quotes([("MUG-1", 1)], PARIS), "not-deliverable")
    refused(await shop.order([("MUG-1", 1)], PARIS, shipping_method="standard"), "not-deliverable")
    # a basket no method of the zone takes: under express's minimum, with express asked
    refused(await shop.order([("MUG-1", 1)], shipping_method="express"), "not-deliverable")
    assert (await shop.call("GET", "/inventory/MUG-1")).json()["reserved"] == 0


async def test_a_quote_is_refused_for_another_basket_address_tenant_or_once_expired(
    api: Api,
) -> None:
    shop = await shop_with_zones(api)
    lines = [("MUG-1", 2)]
    quote = (await shop.quoted(lines))["standard"]["id"]

    refused(
        await shop.order([("MUG-1", 3)], shipping_quote_id=quote),
        "shipping-quote-refused",
        "other_basket",
    )
    refused(
        await shop.order([*lines, ("SPOON-1", 1)], shipping_quote_id=quote),
        "shipping-quote-refused",
        "other_basket",
    )
    moved = {**SF, "line1": "2 Market St"}
    refused(
        await shop.order(lines, moved, shipping_quote_id=quote),
        "shipping-quote-refused",
        "other_address",
    )
    refused(
        await shop.order(lines, shipping_quote_id=quote, shipping_method="express"),
        "shipping-quote-refused",
        "other_method",
    )
    # a price change since the quote makes it another basket
    await shop.product("MUG-1", 1300, weight=400)
    refused(
        await shop.order(lines, shipping_quote_id=quote), "shipping-quote-refused", "other_basket"
    )
    await shop.product("MUG-1", 1200, weight=400)

    other = await shop_with_zones(api, "other")
    refused(
        await other.order(lines, shipping_quote_id=quote), "shipping-quote-refused", "not_found"
    )

    services = api.app.state.services
    later = FixedClock(datetime.now(UTC) + timedelta(minutes=30, seconds=1))
    api.app.state.services = dataclasses.replace(services, clock=later)
    refused(await shop.order(lines, shipping_quote_id=quote), "shipping-quote-refused", "expired")
    api.app.state.services = services

    placed = await shop.order(lines, shipping_quote_id=quote)
    assert placed.status_code == 201, placed.text
    assert placed.json()["totals"]["shipping"] == 400
    assert (await shop.call("GET", "/inventory/MUG-1")).json()["reserved"] == 2


async def test_tenants_without_zones_keep_the_flat_table(api: Api) -> None:
    _, key = await api.tenant("flat")
    shop = Shop(api, key)
    await shop.product("MUG-1", 1200)
    placed = await shop.order([("MUG-1", 1)], PARIS, shipping_method="express")
    assert placed.json()["totals"]["shipping"] == 1499
    refused(await shop.quotes([("MUG-1", 1)]), "not-deliverable")
    refused(await shop.order([("MUG-1", 1)], shipping_quote_id=UUID_ZERO), "shipping-quote-refused")


UUID_ZERO = "00000000-0000-0000-0000-000000000000"


async def test_only_admins_set_zones_and_every_tenant_role_quotes(api: Api) -> None:
    tenant, key = await api.tenant("shop")
    shop = Shop(api, key)
    await shop.product("MUG-1", 1200, weight=400)
    assert (await shop.zone("us", US_ZONE)).status_code == 200
    for role in (Role.STAFF, Role.SERVICE):
        other = Shop(api, await api.key(tenant, role))
        put = await other.zone("us", US_ZONE)
        assert put.status_code == 403, put.text
        assert (await other.call("GET", "/admin/shipping/zones")).status_code == 403
        assert (await other.quotes([("MUG-1", 1)], NYC)).status_code == 200
    # another tenant sees none of these zones
    _, stranger = await api.tenant("stranger")
    assert (await Shop(api, stranger).call("GET", "/admin/shipping/zones/us")).status_code == 404


async def test_malformed_or_overlapping_zones_are_refused_and_record_nothing(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    method = US_ZONE["methods"][0]
    bad = [
        {**US_ZONE, "countries": []},
        {**US_ZONE, "countries": ["XX"]},
        {**US_ZONE, "countries": ["us"]},
        {**US_ZONE, "methods": []},
        {**US_ZONE, "methods": [{"code": "x", "name": "X"}]},
        {**US_ZONE, "methods": [{**method, "carrier": "fake", "service": "standard"}]},
        {**US_ZONE, "methods": [{**method, "price": {"amount": -1, "currency": "USD"}}]},
        {**US_ZONE, "methods": [{**method, "free_over": {"amount": 1, "currency": "EUR"}}]},
        {**US_ZONE, "methods": [{**method, "delivery_days": [5, 2]}]},
        {**US_ZONE, "methods": [{**method, "delivery_days": [1]}]},
        {**US_ZONE, "methods": [method, method]},
        {**US_ZONE, "methods": [{**method, "colour": "red"}]},
        {**US_ZONE, "ship_from": None},
        {**US_ZONE, "regions": ["california"]},
        {**US_ZONE, "postal_prefixes": ["9 4"]},
    ]
    for body in bad:
        answer = await shop.zone("us", body)
        refused(answer, "validation-error")
    refused(await shop.zone("US!", US_ZONE), "validation-error")
    assert (await shop.call("GET", "/admin/shipping/zones")).json()["items"] == []

    assert (await shop.zone("us", US_ZONE)).status_code == 200
    tie = await shop.zone("usa", {**US_ZONE, "countries": ["US", "PR"]})
    refused(tie, "validation-error")
    assert "equally closely" in tie.json()["detail"]
    assert len((await shop.call("GET", "/admin/shipping/zones")).json()["items"]) == 1


async def test_concurrent_puts_of_tying_zones_keep_only_one(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    answers = await asyncio.gather(
        shop.zone("a", US_ZONE), shop.zone("b", US_ZONE), shop.zone("c", US_ZONE)
    )
    assert sorted(a.status_code for a in answers) == [200, 422, 422]
    assert len((await shop.call("GET", "/admin/shipping/zones")).json()["items"]) == 1


async def test_products_carry_weight_and_dimensions(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    body = {
        "name": "Mug",
        "price": {"amount": 1200, "currency": "USD"},
        "weight_grams": 400,
        "length_mm": 120,
        "width_mm": 90,
        "height_mm": 100,
    }
    put = (await shop.call("PUT", "/products/MUG-1", body)).json()
    assert (put["weight_grams"], put["length_mm"], put["height_mm"]) == (400, 120, 100)
    shown = (await shop.call("GET", "/products/MUG-1")).json()
    assert shown["width_mm"] == 90
    cleared = (await shop.call("PUT", "/products/MUG-1", {**body, "weight_grams": None})).json()
    assert cleared["weight_grams"] is None
    for bad in ({"weight_grams": 0}, {"weight_grams": 1_000_001}, {"length_mm": 10_001}):
        refused(await shop.call("PUT", "/products/MUG-1", {**body, **bad}), "validation-error")


async def test_malformed_quote_requests_are_refused_and_store_nothing(api: Api) -> None:
    shop = await shop_with_zones(api)
    good: dict[str, Any] = {
        "lines": [{"sku": "MUG-1", "quantity": 1}],
        "currency": "USD",
        "shipping_address": SF,
    }
    bad = [
        {**good, "lines": []},
        {**good, "lines": [{"sku": "NOPE-1", "quantity": 1}]},
        {**good, "lines": [{"sku": "MUG-1", "quantity": 0}]},
        {**good, "currency": "EUR"},
        {**good, "currency": "usd"},
        {**good, "shipping_address": {**SF, "country": "XX"}},
        {**good, "price": {"amount": 0, "currency": "USD"}},
        {k: v for k, v in good.items() if k != "shipping_address"},
    ]
    for body in bad:
        answer = await shop.call("POST", "/shipping/quotes", body)
        refused(answer, "validation-error")
    events = await api.container.event_store().read_all(START, 10_000)
    assert not [e for e in events if e.type.endswith("ShippingQuote.Offered")]
    assert (await shop.call("POST", "/shipping/quotes", good)).status_code == 200
    events = await api.container.event_store().read_all(START, 10_000)
    assert [e for e in events if e.type.endswith("ShippingQuote.Offered")]
