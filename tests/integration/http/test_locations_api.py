"""Stock locations and order routing (ADR 0031), over HTTP on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

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
OAKLAND = {**SF, "name": "Oakland dock", "city": "Oakland", "postal_code": "94607"}
LA = {**SF, "name": "LA dock", "city": "Los Angeles", "postal_code": "90001"}
NYC = {**SF, "name": "NY dock", "city": "New York", "region": "NY", "postal_code": "10001"}


class Shop:
    def __init__(self, api: Api, key: str) -> None:
        self.api = api
        self.auth = bearer(key)

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.api.client.request(method, f"/api/v1{path}", json=body, headers=self.auth)

    async def location(
        self, location_id: str, address: dict[str, Any], ships: bool = True, **more: Any
    ) -> httpx.Response:
        body = {"name": location_id.title(), "address": address, "ships": ships, **more}
        return await self.call("PUT", f"/admin/locations/{location_id}", body)

    async def stock(self, sku: str, **at: int) -> None:
        put = await self.call(
            "PUT", f"/products/{sku}", {"name": sku, "price": {"amount": 500, "currency": "USD"}}
        )
        assert put.status_code == 200, put.text
        for location_id, quantity in at.items():
            receipt = await self.call(
                "POST",
                f"/inventory/{sku}/receipts",
                {"quantity": quantity, "location_id": location_id},
            )
            assert receipt.status_code == 201, receipt.text

    async def order(self, address: dict[str, Any] | None = SF, **lines: int) -> httpx.Response:
        body: dict[str, Any] = {
            "customer": {"email": "ada@example.com"},
            "lines": [{"sku": sku, "quantity": n} for sku, n in lines.items()],
            "currency": "USD",
        }
        if address is not None:
            body["shipping_address"] = address
        return await self.call("POST", "/orders", body)

    async def reserved(self, sku: str) -> dict[str, int]:
        levels = (await self.call("GET", f"/inventory/{sku}")).json()
        return {loc["location_id"]: loc["reserved"] for loc in levels["locations"]}


async def shop(api: Api, slug: str = "acme") -> Shop:
    _, key = await api.tenant(slug)
    return Shop(api, key)


def plan_of(order: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {
        p["location_id"]: {line["sku"]: line["quantity"] for line in p["lines"]}
        for p in order["fulfilment_plan"]
    }


async def test_a_declared_location_reads_back_and_is_listed(api: Api) -> None:
    s = await shop(api)

    put = await s.location("oakland", OAKLAND, priority=3)
    await s.location("nyc", NYC, ships=False)

    assert put.status_code == 200, put.text
    shown = (await s.call("GET", "/admin/locations/oakland")).json()
    assert (shown["id"], shown["ships"], shown["priority"]) == ("oakland", True, 3)
    assert shown["address"]["postal_code"] == "94607"
    listed = (await s.call("GET", "/admin/locations")).json()
    assert [(i["id"], i["ships"], i["priority"]) for i in listed["items"]] == [
        ("oakland", True, 3),
        ("nyc", False, 100),
    ]
    missing = await s.call("GET", "/admin/locations/nowhere")
    assert missing.status_code == 404
    assert missing.json()["type"] == PROBLEM + "not-found"


async def test_the_nearest_location_with_everything_ships_the_order(api: Api) -> None:
    s = await shop(api)
    for location_id, address in (("nyc", NYC), ("la", LA), ("oakland", OAKLAND)):
        await s.location(location_id, address)
    await s.stock("MUG-1", nyc=5, la=5, oakland=5)

    placed = await s.order(SF, **{"MUG-1": 2})

    assert placed.status_code == 201, placed.text
    assert plan_of(placed.json()) == {"oakland": {"MUG-1": 2}}
    assert await s.reserved("MUG-1") == {"nyc": 0, "la": 0, "oakland": 2}
    shown = (await s.call("GET", f"/orders/{placed.json()['id']}")).json()
    assert shown["fulfilment_plan"] == placed.json()["fulfilment_plan"]


async def test_a_basket_is_split_only_when_no_single_location_has_everything(api: Api) -> None:
    s = await shop(api)
    await s.location("oakland", OAKLAND)
    await s.location("nyc", NYC)
    await s.stock("MUG-1", oakland=5, nyc=5)
    await s.stock("TEE-M", nyc=5)

    together = await s.order(SF, **{"MUG-1": 1, "TEE-M": 1})
    split = await s.order(SF, **{"MUG-1": 6})

    assert plan_of(together.json()) == {"nyc": {"MUG-1": 1, "TEE-M": 1}}
    assert plan_of(split.json()) == {"oakland": {"MUG-1": 5}, "nyc": {"MUG-1": 1}}
    assert await s.reserved("MUG-1") == {"oakland": 5, "nyc": 2}


async def test_a_location_that_does_not_ship_is_skipped(api: Api) -> None:
    s = await shop(api)
    await s.location("oakland", OAKLAND, ships=False)
    await s.location("nyc", NYC)
    await s.stock("MUG-1", oakland=5, nyc=5)

    placed = await s.order(SF, **{"MUG-1": 3})

    assert plan_of(placed.json()) == {"nyc": {"MUG-1": 3}}


async def test_undeclared_locations_still_ship_after_declared_ones(api: Api) -> None:
    s = await shop(api)
    await s.location("oakland", OAKLAND, priority=10_000)
    await s.stock("MUG-1", default=5, oakland=5)

    no_address = await s.order(None, **{"MUG-1": 1})
    only_default = await s.order(None, **{"MUG-1": 7})

    assert plan_of(no_address.json()) == {"oakland": {"MUG-1": 1}}
    assert plan_of(only_default.json()) == {"oakland": {"MUG-1": 4}, "default": {"MUG-1": 3}}


async def test_no_plan_is_a_409_naming_every_short_sku_and_reserves_nothing(api: Api) -> None:
    s = await shop(api)
    await s.location("store", SF, ships=False)
    await s.stock("MUG-1", store=10, default=1)
    await s.stock("TEE-M", default=10)
    await s.stock("CAP-1", store=3)

    refused = await s.order(SF, **{"MUG-1": 2, "TEE-M": 2, "CAP-1": 1})

    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"] == PROBLEM + "insufficient-stock"
    assert problem["skus"] == ["MUG-1", "CAP-1"]
    assert "MUG-1" in problem["detail"]
    assert "CAP-1" in problem["detail"]
    assert await s.reserved("MUG-1") == {"store": 0, "default": 0}
    assert await s.reserved("TEE-M") == {"default": 0}


async def test_concurrent_orders_for_the_last_units_at_two_locations_never_oversell(
    api: Api,
) -> None:
    s = await shop(api)
    await s.location("oakland", OAKLAND)
    await s.location("nyc", NYC)
    await s.stock("MUG-1", oakland=2, nyc=1)

    answers = await asyncio.gather(*(s.order(SF, **{"MUG-1": 1}) for _ in range(6)))

    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3
    planned = [plan_of(a.json()) for a in answers if a.status_code == 201]
    per_location: dict[str, int] = {}
    for plan in planned:
        for location_id, lines in plan.items():
            per_location[location_id] = per_location.get(location_id, 0) + lines["MUG-1"]
    assert per_location == {"oakland": 2, "nyc": 1}
    assert await s.reserved("MUG-1") == {"oakland": 2, "nyc": 1}


async def test_another_tenant_s_locations_are_invisible_and_do_not_route(api: Api) -> None:
    acme = await shop(api, "acme")
    globex = await shop(api, "globex")
    await acme.location("oakland", OAKLAND, ships=False)
    await globex.stock("MUG-1", oakland=5)

    assert (await globex.call("GET", "/admin/locations/oakland")).status_code == 404
    assert (await globex.call("GET", "/admin/locations")).json()["items"] == []
    placed = await globex.order(SF, **{"MUG-1": 1})
    assert plan_of(placed.json()) == {"oakland": {"MUG-1": 1}}


async def test_staff_may_read_locations_but_only_admins_declare_them(api: Api) -> None:
    tenant, admin = await api.tenant("acme")
    staff = Shop(api, await api.key(tenant, Role.STAFF))
    service = Shop(api, await api.key(tenant, Role.SERVICE))
    await Shop(api, admin).location("oakland", OAKLAND)

    assert (await staff.call("GET", "/admin/locations/oakland")).status_code == 200
    assert (await staff.call("GET", "/admin/locations")).status_code == 200
    assert (await staff.location("nyc", NYC)).status_code == 403
    assert (await service.call("GET", "/admin/locations")).status_code == 403


async def test_a_malformed_location_is_a_422_and_records_nothing(api: Api) -> None:
    s = await shop(api)
    bad_bodies: list[Any] = [
        {"name": "X", "address": {**OAKLAND, "country": "USA"}, "ships": True},
        {"name": "", "address": OAKLAND, "ships": True},
        {"name": "X", "address": OAKLAND, "ships": "yes"},
        {"name": "X", "address": OAKLAND, "ships": True, "priority": -1},
        {"name": "X", "address": OAKLAND, "ships": True, "priority": 10_001},
        {"name": "X", "address": OAKLAND},
        {"name": "X", "address": OAKLAND, "ships": True, "colour": "red"},
        [],
    ]
    for body in bad_bodies:
        answer = await s.call("PUT", "/admin/locations/oakland", body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["type"] == PROBLEM + "validation-error"
    bad_id = await s.location("no spaces!", OAKLAND)
    assert bad_id.status_code in (404, 422)
    assert (await s.call("GET", "/admin/locations")).json()["items"] == []


async def test_the_plan_is_in_the_order_s_history(api: Api) -> None:
    s = await shop(api)
    await s.location("oakland", OAKLAND)
    await s.stock("MUG-1", oakland=5)
    placed = (await s.order(SF, **{"MUG-1": 2})).json()

    history = (await s.call("GET", f"/orders/{placed['id']}/history")).json()

    first = history["events"][0]
    assert first["type"] == "Order.Placed"
    assert first["data"]["fulfilment_plan"] == [
        {"location_id": "oakland", "lines": [{"sku": "MUG-1", "quantity": 2}]}
    ]
    assert history["state"]["fulfilment_plan"] == placed["fulfilment_plan"]
