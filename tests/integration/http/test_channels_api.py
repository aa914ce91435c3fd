"""POS connections and the pull of POS orders (ADR 0037), over HTTP on PostgreSQL, Square
through its spec-validated stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.memory.pos import FakePos
from commerce_core.channels.ports import PosOrderState
from commerce_core.processes.pos_orders import pos_order_id
from commerce_core.shared.money import Money
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.channel_sync import channel_sync
from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.pos.square_world import WEBHOOK_URL, SquareTill, SquareWorld, sign
from tests.integration.tracking_story import settled

PROBLEM = "https://commerce-core.dev/problems/"
MAIN = {
    "name": "Main street",
    "line1": "1 Market St",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}


class Shop:
    def __init__(self, api: Api, tenant_id: UUID, key: str) -> None:
        self.api = api
        self.tenant_id = tenant_id
        self.auth = bearer(key)

    async def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.api.client.request(method, f"/api/v1{path}", json=body, headers=self.auth)

    async def stock(self, sku: str, quantity: int) -> None:
        product = {"name": sku, "price": {"amount": 500, "currency": "USD"}}
        assert (await self.call("PUT", f"/products/{sku}", product)).status_code == 200
        receipt = {"quantity": quantity, "location_id": "main"}
        assert (await self.call("POST", f"/inventory/{sku}/receipts", receipt)).status_code == 201

    async def on_hand(self, sku: str) -> int:
        levels = (await self.call("GET", f"/inventory/{sku}")).json()
        return sum(loc["on_hand"] for loc in levels["locations"] if loc["location_id"] == "main")

    async def order_of(self, pos: str, external_id: str) -> httpx.Response:
        return await self.call(
            "GET", f"/orders/{pos_order_id(str(self.tenant_id), pos, external_id)}"
        )

    async def channels(self) -> dict[str, Any]:
        listed = await self.call("GET", "/admin/channels")
        assert listed.status_code == 200, listed.text
        return {item["pos"]: item for item in listed.json()["items"]}


async def shop(api: Api, slug: str) -> Shop:
    tenant, key = await api.tenant(slug)
    made = Shop(api, tenant.id, key)
    location = {"name": "Main", "address": MAIN, "ships": True}
    assert (await made.call("PUT", "/admin/locations/main", location)).status_code == 200
    return made


@pytest.fixture
async def square_server() -> AsyncIterator[tuple[SquareWorld, Server]]:
    world = SquareWorld()
    with serve(world) as server:
        yield world, server
        assert server.violations == [], "\n".join(server.violations)


def square_connection(world: SquareWorld) -> dict[str, Any]:
    return {
        "access_token": world.access_token,
        "signature_key": world.signature_key,
        "location_map": {world.location_id: "main"},
        "item_map": {"ITEM-TEE": "TEE", "ITEM-MUG": "MUG"},
    }


async def test_square_orders_are_pulled_once_paid_and_take_our_stock(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await make_api(square_api_base=server.url, background_work=frozenset())
    acme = await shop(api, "acme")
    await acme.stock("TEE", 5)
    await acme.stock("MUG", 2)
    put = await acme.call("PUT", "/admin/channels/square", square_connection(world))
    assert put.status_code == 200, put.text
    assert world.access_token not in put.text
    assert world.signature_key not in put.text
    assert put.json()["state"] == "active"
    assert put.json()["cursor"] is None

    till = SquareTill(world)
    first = till.ring_up([("TEE", 2, 1500)])  # the till's item ids: ITEM-TEE, ITEM-MUG
    second = till.ring_up([("MUG", 1, 900)])

    pulled = await acme.call("POST", "/admin/channels/square/sync")
    assert pulled.status_code == 200, pulled.text
    assert pulled.json()["imported"] == 2
    again = await acme.call("POST", "/admin/channels/square/sync")
    assert again.status_code == 200
    assert again.json()["imported"] == 0

    order = (await acme.order_of("square", first)).json()
    assert order["channel"] == "pos"
    assert order["status"] == "paid"
    assert order["metadata"]["pos_order_id"] == first
    assert order["totals"]["total"] == 3000
    assert (await acme.order_of("square", second)).json()["status"] == "paid"
    assert await acme.on_hand("TEE") == 3
    assert await acme.on_hand("MUG") == 1

    listed = await acme.channels()
    assert listed["square"]["cursor"] is not None
    assert listed["square"]["last_synced_at"]
    assert listed["square"]["lag_seconds"] is not None
    assert listed["square"]["failures"] == 0
    assert world.access_token not in str(listed)
    assert world.signature_key not in str(listed)


async def test_a_sale_beyond_our_stock_is_flagged_as_an_oversell_once(api: Api) -> None:
    acme = await shop(api, "acme")
    await acme.stock("TEE", 1)
    put = await acme.call("PUT", "/admin/channels/fake", {"location_map": {"L1": "main"}})
    assert put.status_code == 200, put.text
    fake: FakePos = api.app.state.container.pos_resolver().fake(acme.tenant_id)
    sale = fake.ring_up("L1", [("TEE", 3, Money(500, "USD"))])

    pulled = (await acme.call("POST", "/admin/channels/fake/sync")).json()
    assert pulled["oversold"] == 1
    assert pulled["imported"] == 0
    fake.ring_up("L1", [("TEE", 1, Money(500, "USD"))])  # what we have is still sold
    assert (await acme.call("POST", "/admin/channels/fake/sync")).json()["imported"] == 1
    assert (await acme.channels())["fake"]["oversells"] == 1
    assert (await acme.order_of("fake", sale.external_id)).status_code == 404
    assert await acme.on_hand("TEE") == 0


async def test_two_concurrent_pulls_import_a_sale_once(api: Api) -> None:
    acme = await shop(api, "acme")
    await acme.stock("TEE", 10)
    await acme.call("PUT", "/admin/channels/fake", {"location_map": {"L1": "main"}})
    fake: FakePos = api.app.state.container.pos_resolver().fake(acme.tenant_id)
    sale = fake.ring_up("L1", [("TEE", 2, Money(500, "USD"))])

    answers = await asyncio.gather(
        *(acme.call("POST", "/admin/channels/fake/sync") for _ in range(3))
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sum(a.json()["imported"] for a in answers) == 1
    assert (await acme.order_of("fake", sale.external_id)).json()["status"] == "paid"
    assert await acme.on_hand("TEE") == 8


async def test_an_unpaid_sale_cancelled_at_the_till_is_cancelled_and_its_stock_freed(
    api: Api,
) -> None:
    acme = await shop(api, "acme")
    await acme.stock("TEE", 4)
    await acme.call("PUT", "/admin/channels/fake", {"location_map": {"L1": "main"}})
    fake: FakePos = api.app.state.container.pos_resolver().fake(acme.tenant_id)
    sale = fake.ring_up("L1", [("TEE", 1, Money(500, "USD"))])
    fake.orders[sale.external_id] = fake._change(  # an open ticket, not yet paid
        fake.orders[sale.external_id], tenders=[], state=PosOrderState.OPEN
    )
    assert (await acme.call("POST", "/admin/channels/fake/sync")).json()["imported"] == 1
    assert (await acme.order_of("fake", sale.external_id)).json()["status"] == "pending_payment"

    fake._change(fake.orders[sale.external_id], state=PosOrderState.CANCELED, version=3)
    assert (await acme.call("POST", "/admin/channels/fake/sync")).json()["updated"] == 1
    assert (await acme.order_of("fake", sale.external_id)).json()["status"] == "cancelled"
    levels = (await acme.call("GET", "/inventory/TEE")).json()["locations"]
    assert [loc["reserved"] for loc in levels if loc["location_id"] == "main"] == [0]


async def test_other_tenants_see_and_pull_nothing_of_a_connection(api: Api) -> None:
    acme = await shop(api, "acme")
    other = await shop(api, "other")
    await acme.stock("TEE", 4)
    await acme.call("PUT", "/admin/channels/fake", {"location_map": {"L1": "main"}})
    fake: FakePos = api.app.state.container.pos_resolver().fake(acme.tenant_id)
    sale = fake.ring_up("L1", [("TEE", 1, Money(500, "USD"))])
    await acme.call("POST", "/admin/channels/fake/sync")

    assert await other.channels() == {}
    refused = await other.call("POST", "/admin/channels/fake/sync")
    assert refused.status_code == 422
    assert refused.json()["type"] == PROBLEM + "pos-not-connected"
    assert (
        await other.call(
            "GET", f"/orders/{pos_order_id(str(acme.tenant_id), 'fake', sale.external_id)}"
        )
    ).status_code == 404


async def test_only_admins_manage_connections(api: Api) -> None:
    tenant, _ = await api.tenant("acme")
    staff = bearer(await api.key(tenant, Role.STAFF))
    for method, path, body in (
        ("GET", "/admin/channels", None),
        ("PUT", "/admin/channels/fake", {"location_map": {"L1": "main"}}),
        ("POST", "/admin/channels/fake/sync", None),
    ):
        answer = await api.client.request(method, f"/api/v1{path}", json=body, headers=staff)
        assert answer.status_code == 403, (path, answer.text)


@pytest.mark.parametrize(
    ("pos", "body"),
    [
        ("fake", {"location_map": {}}),
        ("fake", {}),
        ("fake", {"location_map": {"L1": "main"}, "colour": "red"}),
        ("fake", {"location_map": {"L 1": "main"}}),
        ("square", {"location_map": {"L1": "main"}}),  # no access token or signature key
        ("clover", {"location_map": {"L1": "main"}}),
        ("fake", {"location_map": {"L1": "main"}, "access_token": ""}),
    ],
)
async def test_malformed_connections_are_refused(api: Api, pos: str, body: Any) -> None:
    acme = await shop(api, "acme")
    answer = await acme.call("PUT", f"/admin/channels/{pos}", body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == PROBLEM + "validation-error"
    assert await acme.channels() == {}


async def test_a_signed_square_webhook_is_stored_once_and_pulls_its_order(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await make_api(
        square_api_base=server.url, square_webhook_url=WEBHOOK_URL, background_work=frozenset()
    )
    acme = await shop(api, "acme")
    await acme.stock("TEE", 5)
    connection = {**square_connection(world), "merchant_id": "MERCHANT-1"}
    assert (await acme.call("PUT", "/admin/channels/square", connection)).status_code == 200
    intruder = await shop(api, "intruder")  # claims the same Square account, its own key
    claim = {**connection, "signature_key": "the-intruders-own-key"}
    assert (await intruder.call("PUT", "/admin/channels/square", claim)).status_code == 200
    till = SquareTill(world)
    sale = till.ring_up([("TEE", 1, 1500)])
    body, headers = till.signed_delivery("EVENT-1", sale)

    first = await api.client.post("/api/v1/webhooks/square", content=body, headers=headers)
    again = await api.client.post("/api/v1/webhooks/square", content=body, headers=headers)
    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    await settled(api)

    order = await acme.order_of("square", sale)
    assert order.status_code == 200, order.text
    assert order.json()["status"] == "paid"
    [event] = await api.app.state.webhooks.inbox.find()
    assert event.tenant_id == str(acme.tenant_id)
    assert event.status == "processed"
    assert event.note.startswith("pulled: 1 imported")
    assert (await intruder.order_of("square", sale)).status_code == 404


@pytest.mark.parametrize(
    "tamper",
    ["signature", "body", "merchant", "not json"],
)
async def test_a_badly_signed_square_webhook_is_refused_and_stores_nothing(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server], tamper: str
) -> None:
    world, server = square_server
    api = await make_api(
        square_api_base=server.url, square_webhook_url=WEBHOOK_URL, background_work=frozenset()
    )
    acme = await shop(api, "acme")
    connection = {**square_connection(world), "merchant_id": "MERCHANT-1"}
    assert (await acme.call("PUT", "/admin/channels/square", connection)).status_code == 200
    sale = SquareTill(world).ring_up([("TEE", 1, 1500)])
    body, headers = SquareTill(world).signed_delivery("EVENT-1", sale)
    if tamper == "signature":
        headers = {"x-square-hmacsha256-signature": sign("another-key", body)}
    elif tamper == "body":
        body = body.replace(b"order_updated", b"order_created")
    elif tamper == "merchant":
        body = body.replace(b"MERCHANT-1", b"MERCHANT-2")
        headers = {"x-square-hmacsha256-signature": sign(world.signature_key, body)}
    else:
        body = b"not json"

    answer = await api.client.post("/api/v1/webhooks/square", content=body, headers=headers)

    assert answer.status_code == 400, answer.text
    slug = "bad-request" if tamper == "not json" else "invalid-signature"
    assert answer.json()["type"] == PROBLEM + slug
    assert await api.app.state.webhooks.inbox.find() == []


async def test_our_available_stock_is_pushed_to_square_once_per_change(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await make_api(square_api_base=server.url, background_work=frozenset())
    acme = await shop(api, "acme")
    await acme.stock("TEE", 5)
    await acme.stock("MUG", 2)
    assert (
        await acme.call("PUT", "/admin/channels/square", square_connection(world))
    ).status_code == 200
    sync = channel_sync(api.app.state.container)
    till = SquareTill(world)

    assert await sync.step() == 1
    assert (till.count("ITEM-TEE"), till.count("ITEM-MUG")) == (5, 2)
    pushes = len(world.counted)
    await sync.step()
    assert len(world.counted) == pushes  # nothing changed: nothing pushed

    web = {"customer": {"email": "ada@example.com"}, "lines": [{"sku": "TEE", "quantity": 2}]}
    assert (await acme.call("POST", "/orders", {**web, "currency": "USD"})).status_code == 201
    till.ring_up([("MUG", 1, 900)])  # pulled, then the counts pushed in the same round
    await sync.step()
    assert (till.count("ITEM-TEE"), till.count("ITEM-MUG")) == (3, 1)
    assert len(world.counted) == pushes + 1
