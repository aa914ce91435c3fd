"""Cash on delivery over HTTP on PostgreSQL: placed, shipped unpaid, paid at the door."""

from __future__ import annotations

from typing import Any

from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import PROBLEM, Shop, shop


async def place_cod(s: Shop, *lines: tuple[str, int]) -> dict[str, Any]:
    placed = await s.order(*lines, payment_method="cash_on_delivery")
    assert placed.status_code == 201, placed.text
    return placed.json()  # type: ignore[no-any-return]


async def ship(s: Shop, oid: str, lines: list[dict[str, Any]] | None = None) -> str:
    body: dict[str, Any] = {"carrier": "ups", **({"lines": lines} if lines else {})}
    shipment = await s.call("POST", f"/orders/{oid}/shipments", body)
    assert shipment.status_code == 201, shipment.text
    return str(shipment.json()["id"])


async def deliver(s: Shop, sid: str) -> None:
    delivered = await s.call("POST", f"/shipments/{sid}/events", {"status": "delivered"})
    assert delivered.status_code == 201, delivered.text


async def test_a_cash_on_delivery_order_is_shipped_unpaid_and_paid_at_the_door(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    order = await place_cod(s, ("MUG-1", 2))
    oid, total = order["id"], order["totals"]["total"]
    assert (order["status"], order["payment_method"]) == ("pending_payment", "cash_on_delivery")
    assert order["reservation_expires_at"] is None  # held until it ships

    confirmed = await s.call("PATCH", f"/orders/{oid}", {"status": "processing"})
    assert confirmed.status_code == 200, confirmed.text
    sid = await ship(s, oid)
    stock = (await s.call("GET", "/inventory/MUG-1")).json()
    assert (stock["on_hand"], stock["reserved"]) == (3, 0)  # taken as it shipped
    early = await s.call("PATCH", f"/orders/{oid}", {"status": "delivered"})
    assert early.status_code == 409  # not before the cash is in
    assert early.json()["type"] == PROBLEM + "invalid-transition"

    await deliver(s, sid)
    await deliver(s, sid)  # the carrier reports it twice

    detail = (await s.call("GET", f"/orders/{oid}")).json()
    assert detail["status"] == "delivered"
    assert detail["totals"]["paid"] == total
    [payment] = detail["payments"]
    assert (payment["method"], payment["gateway"], payment["status"]) == (
        "cash_on_delivery",
        "cash_on_delivery",
        "captured",
    )
    assert (payment["captured"], payment["gateway_fee"]) == (total, 0)
    assert payment["platform_fee"] == round(total * 0.03)
    assert [(h["status"], h["reason"]) for h in detail["status_history"]] == [
        ("pending_payment", None),
        ("processing", None),
        ("shipped", None),
        ("delivered", f"cash collected on delivery: {total // 100}.{total % 100:02d} USD"),
    ]

    refund = await s.call(
        "POST", f"/payments/{payment['id']}/manual-refund", {"amount": 500, "reason": "chipped"}
    )
    assert refund.status_code == 201, refund.text
    after = (await s.call("GET", f"/orders/{oid}")).json()
    assert (after["status"], after["totals"]["refunded"]) == ("partially_refunded", 500)


async def test_two_parcels_each_collect_their_share_adding_up_to_the_total(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    await s.stock_product("TEE-1", 2500, 5)
    order = await place_cod(s, ("MUG-1", 2), ("TEE-1", 1))
    oid, total = order["id"], order["totals"]["total"]

    mugs = await ship(s, oid, [{"sku": "MUG-1", "quantity": 2}])
    await deliver(s, mugs)
    partly = (await s.call("GET", f"/orders/{oid}")).json()
    assert partly["status"] == "partially_shipped"
    assert 0 < partly["totals"]["paid"] < total

    tee = await ship(s, oid)
    await deliver(s, tee)

    detail = (await s.call("GET", f"/orders/{oid}")).json()
    assert (detail["status"], detail["totals"]["paid"]) == ("delivered", total)
    collected = [p["captured"] for p in detail["payments"]]
    assert collected[0] == partly["totals"]["paid"]
    assert len(collected) == 2
    assert sum(collected) == total
    assert {p["method"] for p in detail["payments"]} == {"cash_on_delivery"}


async def test_a_parcels_cash_reported_by_hand_is_not_collected_again(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    order = await place_cod(s, ("MUG-1", 1))
    oid = order["id"]
    sid = await ship(s, oid)

    reported = await s.call(
        "POST",
        f"/orders/{oid}/payments/manual",
        {"method": "cash_on_delivery", "shipment_id": sid, "reference": "CASH-0042"},
    )
    assert reported.status_code == 201, reported.text
    await deliver(s, sid)

    detail = (await s.call("GET", f"/orders/{oid}")).json()
    assert (detail["status"], detail["totals"]["paid"]) == ("delivered", order["totals"]["total"])
    assert [p["id"] for p in detail["payments"]] == [reported.json()["id"]]
    assert detail["payments"][0]["gateway_payment_id"] == "CASH-0042"


async def test_a_card_order_cannot_ship_unpaid(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    oid = (await s.order(("MUG-1", 1), payment_method="card")).json()["id"]

    refused = await s.call("POST", f"/orders/{oid}/shipments", {"carrier": "ups"})

    assert refused.status_code == 409
    assert refused.json()["type"] == PROBLEM + "invalid-transition"
