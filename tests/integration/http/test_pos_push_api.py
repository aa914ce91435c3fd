"""Web orders pushed to Square once, statuses mirrored both ways, oversells listed and
resolved, and the race of a till sale and a web checkout for the last unit (ADR 0040):
over HTTP on PostgreSQL, Square through its spec-validated stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from typing import Any

import httpx
import pytest

from commerce_core.channels.ports import PosFulfilmentState
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.channel_sync import ChannelSync, channel_sync
from tests.integration.carriers.vendor_server import Answer, Received, Server, serve
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_channels_api import PROBLEM, Shop, shop, square_connection
from tests.integration.pos.square_world import WEBHOOK_URL, SquareTill, SquareWorld, error
from tests.integration.tracking_story import settled

CARD = {"type": "card", "token": "tok_visa"}


class LossySquare(SquareWorld):
    """Square whose answer to the next CreateOrder is lost after the order was made: what
    a process killed between the call and recording its outcome sees."""

    lose_next_create: bool = False
    on_search: Callable[[], object] | None = None
    """Called (from the server's thread) once a search of orders is answered."""

    def answer(self, received: Received) -> Answer:
        answered = super().answer(received)
        if self.on_search is not None and received.path == "/v2/orders/search":
            self.on_search()
        if self.lose_next_create and (received.method, received.path) == ("POST", "/v2/orders"):
            self.lose_next_create = False
            return error(503, "API_ERROR", "SERVICE_UNAVAILABLE", "connection reset")
        return answered


@pytest.fixture
async def lossy_square() -> AsyncIterator[tuple[LossySquare, Server]]:
    world = LossySquare()
    with serve(world) as server:
        yield world, server
        assert server.violations == [], "\n".join(server.violations)


def _calls(server: Server, method: str, prefix: str) -> list[Received]:
    return [r for r in server.received if r.method == method and r.path.startswith(prefix)]


async def _web_order(acme: Shop, sku: str, paid: bool = True) -> httpx.Response:
    body = {
        "customer": {"email": "ada@example.com"},
        "lines": [{"sku": sku, "quantity": 1}],
        "currency": "USD",
    }
    placed = await acme.call("POST", "/orders", body)
    if placed.status_code == 201 and paid:
        charge = {"order_id": placed.json()["id"], "payment_method": CARD}
        assert (await acme.call("POST", "/payments/charge", charge)).status_code == 201
    return placed


async def _connected(api: Api, world: SquareWorld, *skus: str) -> tuple[Shop, ChannelSync]:
    acme = await shop(api, "acme")
    for sku in skus:
        await acme.stock(sku, 1 if sku.startswith("RACE") else 5)
    connection = {
        **square_connection(world),
        "merchant_id": "MERCHANT-1",
        "item_map": {f"ITEM-{sku}": sku for sku in skus},
    }
    assert (await acme.call("PUT", "/admin/channels/square", connection)).status_code == 200
    return acme, channel_sync(api.app.state.container)


async def test_a_web_order_is_pushed_once_and_its_status_mirrored_both_ways(
    make_api: MakeApi, lossy_square: tuple[LossySquare, Server]
) -> None:
    world, server = lossy_square
    api = await make_api(
        square_api_base=server.url, square_webhook_url=WEBHOOK_URL, background_work=frozenset()
    )
    acme, sync = await _connected(api, world, "TEE")
    placed = await _web_order(acme, "TEE")
    order_id = placed.json()["id"]

    world.lose_next_create = True  # made at Square, the answer lost
    assert await sync.step() == 0  # the push failed: recorded, backing off
    assert (await acme.channels())["square"]["state"] == "backing_off"
    put = {**square_connection(world), "merchant_id": "MERCHANT-1", "item_map": {"ITEM-TEE": "TEE"}}
    assert (await acme.call("PUT", "/admin/channels/square", put)).status_code == 200
    assert await sync.step() == 1  # asked again with the same key
    await sync.step()

    creates = _calls(server, "POST", "/v2/orders")
    creates = [r for r in creates if r.path == "/v2/orders"]
    assert len(creates) == 2
    assert len({r.json()["idempotency_key"] for r in creates}) == 1
    [pushed] = [o for o in world.orders.values() if o.get("reference_id") == order_id]
    assert len(world.orders) == 1  # one order at Square, however often asked
    assert pushed["line_items"][0]["metadata"]["sku"] == "TEE"
    assert pushed["fulfillments"][0]["state"] == "PROPOSED"
    pulled = await acme.call("POST", "/admin/channels/square/sync")
    assert pulled.json()["imported"] == 0  # ours: never imported back as a new order

    # ours -> Square: once per change
    moved = await acme.call("PATCH", f"/orders/{order_id}", {"status": "processing"})
    assert moved.status_code == 200, moved.text
    await sync.step()
    await sync.step()
    updates = _calls(server, "POST", f"/v2/orders/{pushed['id']}")
    updates += _calls(server, "PUT", f"/v2/orders/{pushed['id']}")
    assert [u.json()["order"]["fulfillments"][0]["state"] for u in updates] == ["RESERVED"]
    assert world.orders[pushed["id"]]["fulfillments"][0]["state"] == "RESERVED"

    # Square -> ours: by webhook, then the echo does nothing either way
    till = SquareTill(world)
    till.move_fulfilment(pushed["id"], PosFulfilmentState.PREPARED)
    body, headers = till.signed_delivery("EVENT-PREPARED", pushed["id"])
    delivered = await api.client.post("/api/v1/webhooks/square", content=body, headers=headers)
    assert delivered.status_code == 200, delivered.text
    await settled(api)
    order = (await acme.call("GET", f"/orders/{order_id}")).json()
    assert order["status"] == "ready_for_shipment"
    assert (await acme.call("POST", "/admin/channels/square/sync")).json()["updated"] == 0
    await sync.step()
    after = _calls(server, "PUT", f"/v2/orders/{pushed['id']}")
    after += _calls(server, "POST", f"/v2/orders/{pushed['id']}")
    assert len(after) == len(updates)  # nothing pushed back
    history = [h["status"] for h in order["status_history"]]
    assert history.count("ready_for_shipment") == 1


class Interleaving(StrEnum):
    WEB_FIRST = "web first"
    POS_FIRST = "pos first"
    TOGETHER = "together"
    """Both requests sent at once."""
    AT_THE_APPEND = "at the append"
    """The checkout sent the moment Square has answered the pull: the import and the
    checkout then race to append the unit's hold."""


async def _race(acme: Shop, world: LossySquare, sku: str, interleaving: Interleaving) -> str:
    """A till sale and a web checkout of the last unit of ``sku``; which one took it."""
    till = SquareTill(world)
    sale = till.ring_up([(sku, 1, 500)])
    checkout = _web_order(acme, sku, paid=False)
    pull = acme.call("POST", "/admin/channels/square/sync")
    if interleaving is Interleaving.WEB_FIRST:
        web = await checkout
        pulled = await pull
    elif interleaving is Interleaving.POS_FIRST:
        pulled = await pull
        web = await checkout
    elif interleaving is Interleaving.TOGETHER:
        web, pulled = await asyncio.gather(checkout, pull)
    else:
        searched = asyncio.Event()
        loop = asyncio.get_running_loop()
        world.on_search = lambda: loop.call_soon_threadsafe(searched.set)

        async def checkout_once_pulled() -> httpx.Response:
            await asyncio.wait_for(searched.wait(), timeout=30)
            return await checkout

        try:
            pulled, web = await asyncio.gather(pull, checkout_once_pulled())
        finally:
            world.on_search = None
    assert pulled.status_code == 200, pulled.text
    oversells = await acme.call("GET", "/admin/channels/square/oversells")
    flagged = {o["external_id"] for o in oversells.json()["items"]}
    pos_order = await acme.order_of("square", sale)
    levels = (await acme.call("GET", f"/inventory/{sku}")).json()["locations"]
    [main] = [loc for loc in levels if loc["location_id"] == "main"]
    assert main["available"] == 0  # never below: the unit went once
    if web.status_code == 201:
        assert sale in flagged, "the till sale must be flagged, not dropped"
        assert pos_order.status_code == 404
        return "web"
    assert web.status_code == 409, web.text
    assert web.json()["type"] == PROBLEM + "insufficient-stock"
    assert sale not in flagged
    assert pos_order.json()["status"] == "paid"
    return "pos"


async def test_a_till_sale_and_a_web_checkout_race_for_the_last_unit(
    make_api: MakeApi, lossy_square: tuple[LossySquare, Server]
) -> None:
    world, server = lossy_square
    api = await make_api(square_api_base=server.url, background_work=frozenset())
    orders = [Interleaving.WEB_FIRST, Interleaving.POS_FIRST]
    orders += [Interleaving.TOGETHER, Interleaving.AT_THE_APPEND] * 5
    acme, _ = await _connected(api, world, *(f"RACE{n}" for n in range(len(orders))))

    winners = [await _race(acme, world, f"RACE{n}", way) for n, way in enumerate(orders)]

    assert winners[:2] == ["web", "pos"]  # each side wins when it comes first
    flagged = (await acme.channels())["square"]["oversells"]
    assert flagged == winners.count("web")  # every sale the till lost is flagged once


async def test_oversells_are_listed_and_resolved_once_with_a_note(
    make_api: MakeApi, lossy_square: tuple[LossySquare, Server]
) -> None:
    world, server = lossy_square
    api = await make_api(square_api_base=server.url, background_work=frozenset())
    acme, _ = await _connected(api, world, "TEE")
    sale = SquareTill(world).ring_up([("TEE", 9, 500)])  # 5 in stock
    assert (await acme.call("POST", "/admin/channels/square/sync")).json()["oversold"] == 1
    assert (await acme.channels())["square"]["oversells"] == 1
    [listed] = (await acme.call("GET", "/admin/channels/square/oversells")).json()["items"]
    assert (listed["external_id"], listed["resolution"]) == (sale, None)
    assert listed["location_id"] == world.location_id

    path = f"/admin/channels/square/oversells/{sale}/resolve"
    resolved = await acme.call("POST", path, {"note": "written off"})
    again = await acme.call("POST", path, {"note": "something else"})

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolution"]["note"] == "written off"
    assert again.json()["resolution"] == resolved.json()["resolution"]  # the first one stays
    assert (await acme.channels())["square"]["oversells"] == 0
    assert (await acme.call("GET", "/admin/channels/square/oversells")).json()["items"] == []
    everything = await acme.call("GET", "/admin/channels/square/oversells?open_only=false")
    assert [o["resolution"]["note"] for o in everything.json()["items"]] == ["written off"]


@pytest.mark.parametrize(
    ("path", "body", "status", "slug"),
    [
        ("square/oversells/NO-SUCH-ORDER/resolve", {"note": "x"}, 404, "not-found"),
        ("clover/oversells/X/resolve", {"note": "x"}, 404, "not-found"),
        ("square/oversells/{sale}/resolve", {"note": ""}, 422, "validation-error"),
        ("square/oversells/{sale}/resolve", {"note": "   "}, 422, "validation-error"),
        ("square/oversells/{sale}/resolve", {"note": "x" * 1001}, 422, "validation-error"),
        ("square/oversells/{sale}/resolve", {"note": "x", "by": "me"}, 422, "validation-error"),
        ("square/oversells/{sale}/resolve", {}, 422, "validation-error"),
    ],
)
async def test_malformed_or_unknown_resolutions_are_refused_and_change_nothing(
    make_api: MakeApi,
    lossy_square: tuple[LossySquare, Server],
    path: str,
    body: Any,
    status: int,
    slug: str,
) -> None:
    world, server = lossy_square
    api = await make_api(square_api_base=server.url, background_work=frozenset())
    acme, _ = await _connected(api, world, "TEE")
    sale = SquareTill(world).ring_up([("TEE", 9, 500)])
    await acme.call("POST", "/admin/channels/square/sync")

    answer = await acme.call("POST", "/admin/channels/" + path.format(sale=sale), body)

    assert answer.status_code == status, answer.text
    assert answer.json()["type"] == PROBLEM + slug
    assert (await acme.channels())["square"]["oversells"] == 1


async def test_another_tenant_can_neither_see_nor_resolve_an_oversell(
    make_api: MakeApi, lossy_square: tuple[LossySquare, Server]
) -> None:
    world, server = lossy_square
    api = await make_api(square_api_base=server.url, background_work=frozenset())
    acme, _ = await _connected(api, world, "TEE")
    sale = SquareTill(world).ring_up([("TEE", 9, 500)])
    await acme.call("POST", "/admin/channels/square/sync")
    other = await shop(api, "other")
    tenant, _ = await api.tenant("staffed")
    staff = bearer(await api.key(tenant, Role.STAFF))

    listed = await other.call("GET", "/admin/channels/square/oversells")
    resolved = await other.call(
        "POST", f"/admin/channels/square/oversells/{sale}/resolve", {"note": "mine now"}
    )
    forbidden = await api.client.get("/api/v1/admin/channels/square/oversells", headers=staff)

    assert listed.json()["items"] == []
    assert resolved.status_code == 404
    assert forbidden.status_code == 403
    assert (await acme.channels())["square"]["oversells"] == 1


async def test_concurrent_sync_rounds_push_an_order_once_and_mirror_each_change_once(
    make_api: MakeApi, lossy_square: tuple[LossySquare, Server]
) -> None:
    world, server = lossy_square
    api = await make_api(square_api_base=server.url, background_work=frozenset())
    acme, _ = await _connected(api, world, "TEE", "MUG")
    container = api.app.state.container
    rounds = [channel_sync(container) for _ in range(4)]  # as four processes would
    ids = [(await _web_order(acme, sku)).json()["id"] for sku in ("TEE", "MUG")]

    await asyncio.gather(*(r.step() for r in rounds))
    for order_id in ids:
        moved = await acme.call("PATCH", f"/orders/{order_id}", {"status": "processing"})
        assert moved.status_code == 200, moved.text
    await asyncio.gather(*(r.step() for r in rounds))

    assert sorted(str(o.get("reference_id")) for o in world.orders.values()) == sorted(ids)
    assert all(o["fulfillments"][0]["state"] == "RESERVED" for o in world.orders.values())
    keys = [r.json()["idempotency_key"] for r in _calls(server, "PUT", "/v2/orders/")]
    assert len(set(keys)) == 2  # one change per order, whoever asked
