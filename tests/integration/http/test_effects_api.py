"""Every gateway call exactly once, over HTTP on PostgreSQL, with concurrent clients that
send no Idempotency-Key (ADR 0016): the decision and its intent are recorded before the
gateway is asked, so a race is lost before money moves, never after."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import Any

import httpx
from dependency_injector import providers

from adapters.postgres.fake_gateway import PostgresFakeGateway
from entrypoints.container import build_container, open_pool
from entrypoints.jobs import JobDeps, run_job
from entrypoints.settings import Settings
from tests.conftest import TEST_DATABASE_URL, PgSchema
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


async def _paid_order(shop: Shop, quantity: int = 1) -> tuple[str, dict[str, Any]]:
    oid = (await shop.order(("MUG-1", quantity))).json()["id"]
    charged = await _charge(shop, oid)
    assert charged.status_code == 201, charged.text
    return oid, charged.json()


async def test_a_cancel_racing_a_shipment_never_refunds_a_shipped_order(api: Api) -> None:
    shop = await _shop(api)
    for _ in range(16):
        oid, _ = await _paid_order(shop)
        cancel, ship = await asyncio.gather(
            shop.call("POST", f"/orders/{oid}/cancel", {"reason": "changed my mind"}),
            shop.call("POST", f"/orders/{oid}/shipments", {"carrier": "ups"}),
        )
        order = (await shop.call("GET", f"/orders/{oid}")).json()
        [payment] = (await shop.call("GET", f"/orders/{oid}/payments")).json()
        assert sorted([cancel.status_code, ship.status_code]) in ([200, 409], [201, 409]), (
            cancel.text,
            ship.text,
        )
        if ship.status_code == 201:
            assert order["status"] == "shipped"
            assert (payment["status"], payment["refunded"]) == ("captured", 0)
        else:
            assert order["status"] == "cancelled"
            assert (payment["status"], payment["refunded"]) == ("refunded", payment["captured"])


async def test_concurrent_partial_refunds_each_fit_or_are_refused_before_the_gateway(
    api: Api,
) -> None:
    shop = await _shop(api)
    _, payment = await _paid_order(shop, quantity=10)
    total = payment["captured"]
    share = total * 30 // 100

    answers = await asyncio.gather(
        *(
            shop.call("POST", f"/payments/{payment['id']}/refund", {"amount": share})
            for _ in range(20)
        )
    )

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 3 + [409] * 17, [a.text for a in answers if a.status_code != 201]
    assert {_slug(a) for a in answers if a.status_code == 409} == {"refund-exceeds-captured"}
    after = (await shop.call("GET", f"/payments/{payment['id']}")).json()
    assert after["refunded"] == 3 * share


async def test_concurrent_partial_captures_are_all_counted_and_a_later_one_takes_the_rest(
    api: Api,
) -> None:
    shop = await _shop(api)
    oid = (await shop.order(("MUG-1", 10))).json()["id"]
    authorized = await shop.call(
        "POST", "/payments/authorize", {"order_id": oid, "payment_method": CARD}
    )
    assert authorized.status_code == 201, authorized.text
    pid, total = authorized.json()["id"], authorized.json()["authorized"]
    part = total * 40 // 100

    first, second = await asyncio.gather(
        *(shop.call("POST", f"/payments/{pid}/capture", {"amount": part}) for _ in range(2))
    )

    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert (await shop.call("GET", f"/payments/{pid}")).json()["captured"] == 2 * part
    rest = await shop.call("POST", f"/payments/{pid}/capture", {})
    assert rest.status_code == 200, rest.text
    assert rest.json()["captured"] == total
    order = (await shop.call("GET", f"/orders/{oid}")).json()
    assert (order["status"], order["totals"]["paid"]) == ("paid", total)
    over = await shop.call("POST", f"/payments/{pid}/capture", {"amount": 1})
    assert over.status_code == 409


async def test_the_cli_s_jobs_see_the_payments_the_app_took_with_the_test_gateway(
    api: Api, pg_schema: PgSchema
) -> None:
    shop = await _shop(api)
    await _paid_order(shop)
    waiting_order = (await shop.order(("MUG-1", 1))).json()["id"]
    waiting = await shop.call(
        "POST",
        "/payments/authorize",
        {"order_id": waiting_order, "payment_method": {"type": "card", "token": "tok_3ds"}},
    )
    assert waiting.status_code == 201, waiting.text
    today = datetime.now(UTC).date()
    # another process, as `commerce jobs run` builds it: its own container on the same database
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=TEST_DATABASE_URL,
        database_schema=pg_schema.name,
        event_store="postgres",
    )
    container = build_container(settings)
    async with open_pool(settings) as pool:
        container.pool.override(providers.Object(pool))
        deps = JobDeps.from_container(container)
        reconciled = await run_job("reconcile", deps, today)
        recovered = await run_job("recover-effects", deps)

    assert (reconciled.examined, reconciled.errors) == (2, [])
    assert not any("discrepancies" in note for note in reconciled.notes), reconciled.notes
    assert (recovered.examined, recovered.errors) == (0, [])  # nothing left open
