"""Cursors on `GET /admin/notifications` and `GET /webhook-endpoints/{id}/deliveries`
(API.md's list convention): walking the pages yields every item once, newest first; the
last page says there is no more; a malformed cursor is a 422; a cursor never shows
another tenant's items."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from adapters.memory.clock import FixedClock
from entrypoints.merchant_webhook_worker import merchant_webhooks
from tests.integration.http.conftest import Api, MakeApi
from tests.integration.http.test_merchant_webhooks_api import fan_out_all
from tests.integration.http.test_notifications_api import ONLY_PROJECTIONS, World, record_all
from tests.integration.http.test_orders_api import Shop
from tests.integration.merchant_webhooks.receiver import receiving
from tests.integration.notifications.smtp_server import smtp_server

PROBLEM = "https://commerce-core.dev/problems/"
ORDERS = 5


async def place_orders(shop: Shop, count: int = ORDERS) -> None:
    await shop.stock_product("MUG-1", 1000, 100)
    for n in range(count):
        placed = await shop.order(("MUG-1", 1), customer={"email": f"c{n}@example.com"})
        assert placed.status_code == 201, placed.text


async def walk(shop: Shop, path: str, limit: int) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        query = ("&" if "?" in path else "?") + f"limit={limit}"
        query += f"&cursor={cursor}" if cursor else ""
        got = await shop.call("GET", path + query)
        assert got.status_code == 200, got.text
        body = got.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) <= ORDERS + 1, "the cursor never ends"


def newest_first(items: list[dict[str, Any]]) -> bool:
    keys = [(i["created_at"], i["id"]) for i in items]
    return keys == sorted(keys, reverse=True)


async def malformed(shop: Shop, path: str) -> None:
    for cursor in ("not-a-cursor", "e30", "%%%", "eyJ4IjoxfQ"):
        got = await shop.call("GET", f"{path}?cursor={cursor}")
        assert got.status_code == 422, (cursor, got.text)
        assert got.json()["type"] == PROBLEM + "validation-error"


async def test_notification_pages_walk_every_notification_once(make_api: MakeApi) -> None:
    async with smtp_server() as mailbox:
        api = await make_api(
            smtp_url=mailbox.url, email_from="shop@example.com", background_work=ONLY_PROJECTIONS
        )
        world = World(api, await shop_of(api, "acme"), FixedClock(datetime.now(UTC)), mailbox)
        await place_orders(world.shop)
        await record_all(world.worker())
        path = "/admin/notifications"

        pages = await walk(world.shop, path, limit=2)
        assert [len(p) for p in pages] == [2, 2, 1]
        items = [i for page in pages for i in page]
        assert len({i["id"] for i in items}) == ORDERS
        assert [i["kind"] for i in items] == ["order_confirmation"] * ORDERS
        assert newest_first(items)
        everything = (await world.shop.call("GET", path)).json()
        assert [i["id"] for i in everything["items"]] == [i["id"] for i in items]
        assert everything["next_cursor"] is None
        exact = (await world.shop.call("GET", f"{path}?limit={ORDERS}")).json()
        assert exact["next_cursor"] is None  # a full last page says so, no empty page after
        await malformed(world.shop, path)

        first = (await world.shop.call("GET", f"{path}?limit=1")).json()
        other = await shop_of(api, "globex")
        theirs = await other.call("GET", f"{path}?cursor={first['next_cursor']}")
        assert theirs.status_code == 200, theirs.text
        assert theirs.json() == {"items": [], "next_cursor": None}


async def test_delivery_pages_walk_every_delivery_once(make_api: MakeApi) -> None:
    api = await make_api(webhook_allow_private=True, background_work=ONLY_PROJECTIONS)
    shop = await shop_of(api, "acme")
    built = merchant_webhooks(api.app.state.container, api.app.state.container.settings())
    async with receiving(now=lambda: datetime.now(UTC).timestamp()) as receiver:
        created = await shop.call(
            "POST", "/webhook-endpoints", {"url": receiver.url, "events": ["order.placed"]}
        )
        assert created.status_code == 201, created.text
        path = f"/webhook-endpoints/{created.json()['id']}/deliveries"
        await place_orders(shop)
        for _ in range(500):  # until the orders are visible to the fan-out (other tests' open
            await fan_out_all(built)  # transactions on the server hide newer events)
            listed = (await shop.call("GET", path)).json()["items"]
            if len(listed) == ORDERS:
                break
            await asyncio.sleep(0.02)
        assert len(listed) == ORDERS

        pages = await walk(shop, path, limit=2)
        assert [len(p) for p in pages] == [2, 2, 1]
        items = [i for page in pages for i in page]
        assert [i["id"] for i in items] == [i["id"] for i in listed]
        assert newest_first(items)
        pending = await walk(shop, path + "?status=pending", limit=4)
        assert sum(len(p) for p in pending) == ORDERS
        await malformed(shop, path)

        first = (await shop.call("GET", f"{path}?limit=1")).json()
        other = await shop_of(api, "globex")
        theirs = await other.call("GET", f"{path}?cursor={first['next_cursor']}")
        assert theirs.status_code == 404, theirs.text


async def shop_of(api: Api, slug: str) -> Shop:
    _, key = await api.tenant(slug)
    return Shop(api, key)
