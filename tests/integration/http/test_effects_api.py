"""Every gateway call exactly once, over HTTP on PostgreSQL, with concurrent clients that
send no Idempotency-Key (ADR 0016): the decision and its intent are recorded before the
gateway is asked, so a race is lost before money moves, never after."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from adapters.postgres.fake_gateway import PostgresFakeGateway
from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import PROBLEM, Shop

CARD = {"type": "card", "token": "tok_visa"}


async def _shop(api: Api, sku: str = "MUG-1", price: int = 1000, stock: int = 500) -> Shop:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    await shop.stock_product(sku, price, stock)
    return shop


async def _charged(api: Api) -> int:
    """How many payments the test gateway made (the demo's, in its own table)."""
    gateway = api.container.payment_gateway()
    assert isinstance(gateway, PostgresFakeGateway)
    pool = api.container.pool()
    assert pool is not None
    async with pool.acquire() as conn:
        count: int = await conn.fetchval("SELECT count(*) FROM test_gateway_payments")
    return count


def _slug(response: httpx.Response) -> str:
    return str(response.json()["type"]).removeprefix(PROBLEM)


async def _charge(shop: Shop, order_id: str) -> httpx.Response:
    return await shop.call(
        "POST", "/payments/charge", {"order_id": order_id, "payment_method": CARD}
    )


async def test_concurrent_charges_of_one_order_take_the_money_once(api: Api) -> None:
    shop = await _shop(api)
    oid = (await shop.order(("MUG-1", 2))).json()["id"]

    answers = await asyncio.gather(*(_charge(shop, oid) for _ in range(10)))

    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(created) == 1, [a.text for a in answers]
    assert {a.status_code for a in refused} == {409}
    assert {_slug(a) for a in refused} <= {"payment-in-progress", "order-already-paid"}
    payments = (await shop.call("GET", f"/orders/{oid}/payments")).json()
    assert [p["status"] for p in payments] == ["captured"]
    order = (await shop.call("GET", f"/orders/{oid}")).json()
    assert order["status"] == "paid"
    assert order["totals"]["paid"] == order["totals"]["total"]
    assert await _charged(api) == 1

    again = await _charge(shop, oid)
    assert (again.status_code, _slug(again)) == (409, "order-already-paid")
    assert await _charged(api) == 1


async def test_every_charge_the_gateway_took_is_recorded_under_contention(api: Api) -> None:
    shop = await _shop(api, stock=100)
    orders = [(await shop.order(("MUG-1", 1))).json()["id"] for _ in range(60)]
    limit = asyncio.Semaphore(6)

    async def pay(oid: str) -> httpx.Response:
        async with limit:
            return await _charge(shop, oid)

    answers = await asyncio.gather(*(pay(oid) for oid in orders))

    assert [a.status_code for a in answers] == [201] * 60, [
        a.text for a in answers if a.status_code != 201
    ]
    paid = 0
    for oid in orders:
        order: dict[str, Any] = (await shop.call("GET", f"/orders/{oid}")).json()
        paid += order["status"] == "paid"
    assert paid == 60
    assert await _charged(api) == 60
