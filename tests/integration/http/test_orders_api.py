"""The order journey over HTTP on PostgreSQL: catalog, stock, order, pay, ship, refund, cancel."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from commerce_core.tenancy.ports.tenants import Role
from tests.integration.http.conftest import Api, bearer

PROBLEM = "https://commerce-core.dev/problems/"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
}


class Shop:
    def __init__(self, api: Api, key: str) -> None:
        self.api = api
        self.auth = bearer(key)

    async def call(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        return await self.api.client.request(
            method, f"/api/v1{path}", json=body, headers={**self.auth, **headers}
        )

    async def stock_product(self, sku: str, price: int, quantity: int) -> None:
        put = await self.call(
            "PUT",
            f"/products/{sku}",
            {
                "name": sku.title(),
                "price": {"amount": price, "currency": "USD"},
                "tax_rate_bps": 1000,
            },
        )
        assert put.status_code == 200, put.text
        receipt = await self.call("POST", f"/inventory/{sku}/receipts", {"quantity": quantity})
        assert receipt.status_code == 201, receipt.text

    async def order(self, *lines: tuple[str, int], **extra: Any) -> httpx.Response:
        body = {
            "customer": {"email": "ada@example.com", "name": "Ada"},
            "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines],
            "currency": "USD",
            "shipping_address": ADDRESS,
            "shipping_method": "standard",
            **extra,
        }
        return await self.call("POST", "/orders", body)

    async def available(self, sku: str) -> int:
        return int((await self.call("GET", f"/inventory/{sku}")).json()["available"])


async def shop(api: Api, slug: str = "shop") -> Shop:
    _, key = await api.tenant(slug)
    return Shop(api, key)


async def test_an_order_is_placed_paid_shipped_delivered_and_partly_refunded(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)

    placed = await s.order(("MUG-1", 2))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "pending_payment"
    assert order["number"].startswith("ORD-")
    assert order["lines"] == [
        {
            "sku": "MUG-1",
            "name": "Mug-1",
            "quantity": 2,
            "unit_price": {"amount": 1000, "currency": "USD"},
            "line_total": {"amount": 2000, "currency": "USD"},
        }
    ]
    totals = order["totals"]
    assert (totals["subtotal"], totals["tax"], totals["total"], totals["paid"]) == (
        2000,
        200,
        2000 + 200 + totals["shipping"],
        0,
    )
    assert order["reservation_expires_at"]
    assert await s.available("MUG-1") == 3
    oid = order["id"]

    authorized = await s.call(
        "POST",
        "/payments/authorize",
        {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}},
    )
    assert authorized.status_code == 201, authorized.text
    payment = authorized.json()
    assert (payment["status"], payment["amount"], payment["captured"]) == (
        "authorized",
        totals["total"],
        0,
    )
    captured = await s.call("POST", f"/payments/{payment['id']}/capture", {})
    assert captured.status_code == 200, captured.text
    assert captured.json()["status"] == "captured"
    assert captured.json()["platform_fee"] == round(totals["total"] * 0.03)
    assert (
        captured.json()["net_amount"]
        == totals["total"] - captured.json()["platform_fee"] - captured.json()["gateway_fee"]
    )

    shipment = await s.call("POST", f"/orders/{oid}/shipments", {"carrier": "ups"})
    assert shipment.status_code == 201, shipment.text
    sid = shipment.json()["id"]
    delivered = await s.call("POST", f"/shipments/{sid}/events", {"status": "delivered"})
    assert delivered.status_code == 201, delivered.text

    refund = await s.call("POST", f"/orders/{oid}/refund", {"amount": 500, "reason": "scratch"})
    assert refund.status_code == 201, refund.text
    assert (refund.json()["amount"], refund.json()["payment_id"]) == (500, payment["id"])

    detail = (await s.call("GET", f"/orders/{oid}")).json()
    assert detail["status"] == "partially_refunded"
    assert (detail["totals"]["paid"], detail["totals"]["refunded"]) == (totals["total"], 500)
    assert [h["status"] for h in detail["status_history"]] == [
        "pending_payment",
        "paid",
        "shipped",
        "delivered",
        "partially_refunded",
    ]
    assert [p["id"] for p in detail["payments"]] == [payment["id"]]
    assert detail["shipments"][0]["status"] == "delivered"
    assert (await s.call("GET", f"/payments/{payment['id']}")).json()["refunded"] == 500
    assert (await s.available("MUG-1")) == 3  # committed on payment: on hand went down
    stock = (await s.call("GET", "/inventory/MUG-1")).json()
    assert (stock["on_hand"], stock["reserved"]) == (3, 0)


async def test_not_enough_stock_is_refused_and_reserves_nothing(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 2)
    await s.stock_product("TEE-1", 2000, 5)

    refused = await s.order(("TEE-1", 1), ("MUG-1", 3))

    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"] == PROBLEM + "insufficient-stock"
    assert (problem["sku"], problem["requested"], problem["available"]) == ("MUG-1", 3, 2)
    assert (await s.available("MUG-1"), await s.available("TEE-1")) == (2, 5)


async def test_declined_and_3ds_payments(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    oid = (await s.order(("MUG-1", 1))).json()["id"]

    declined = await s.call(
        "POST",
        "/payments/charge",
        {"order_id": oid, "payment_method": {"type": "card", "token": "tok_declined"}},
    )
    assert declined.status_code == 402, declined.text
    assert declined.json()["type"] == PROBLEM + "payment-declined"
    assert declined.json()["decline_code"] == "card_declined"
    assert (await s.call("GET", f"/orders/{oid}")).json()["status"] == "payment_failed"

    three_ds = await s.call(
        "POST",
        "/payments/charge",
        {"order_id": oid, "payment_method": {"type": "card", "token": "tok_3ds"}},
    )
    assert three_ds.status_code == 201, three_ds.text
    body = three_ds.json()
    assert (body["status"], body["requires_action"]) == ("pending", True)
    assert body["client_secret"]


async def test_refused_transitions_and_cancellation_releasing_stock(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    oid = (await s.order(("MUG-1", 2))).json()["id"]

    shipped = await s.call("PATCH", f"/orders/{oid}", {"status": "delivered"})
    assert shipped.status_code == 409
    assert shipped.json()["type"] == PROBLEM + "invalid-transition"
    bad = await s.call("PATCH", f"/orders/{oid}", {"status": "teleported"})
    assert bad.status_code == 422

    cancelled = await s.call("POST", f"/orders/{oid}/cancel", {"reason": "changed mind"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await s.available("MUG-1") == 5
    again = await s.call("POST", f"/orders/{oid}/cancel", {"reason": "twice"})
    assert again.status_code == 409


async def test_a_retried_order_with_the_same_idempotency_key_is_placed_once(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    key = {"Idempotency-Key": f"order-{uuid.uuid4()}"}
    body = {
        "customer": {"email": "ada@example.com"},
        "lines": [{"sku": "MUG-1", "quantity": 1}],
        "currency": "USD",
    }

    answers = await asyncio.gather(*(s.call("POST", "/orders", body, **key) for _ in range(5)))

    assert {a.status_code for a in answers} <= {201, 409}
    created = [a.json() for a in answers if a.status_code == 201]
    assert len({o["id"] for o in created}) == 1
    assert await s.available("MUG-1") == 4
    replay = await s.call("POST", "/orders", body, **key)
    assert replay.json()["id"] == created[0]["id"]


async def test_the_order_list_follows_commands(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    first = (await s.order(("MUG-1", 1))).json()
    second = (await s.order(("MUG-1", 1))).json()
    await s.call("POST", f"/orders/{first['id']}/cancel", {"reason": "x"})

    async def listed(query: str) -> list[str]:
        for _ in range(200):  # the read model follows within moments; poll with a deadline
            page = (await s.call("GET", f"/orders{query}")).json()
            if len(page["items"]) >= 1:
                return [o["id"] for o in page["items"]]
            await asyncio.sleep(0.02)
        return []

    assert await listed("?status=cancelled") == [first["id"]]
    assert await listed("?status=pending_payment") == [second["id"]]
    page = (await s.call("GET", "/orders?limit=1")).json()
    assert [o["id"] for o in page["items"]] == [second["id"]]
    rest = (await s.call("GET", f"/orders?limit=1&cursor={page['next_cursor']}")).json()
    assert [o["id"] for o in rest["items"]] == [first["id"]]
    assert (await s.call("GET", "/orders?cursor=garbage")).status_code == 422


async def test_another_tenant_gets_404_on_every_order_route(api: Api) -> None:
    mine = await shop(api, "mine")
    theirs = await shop(api, "theirs")
    await mine.stock_product("MUG-1", 1000, 5)
    oid = (await mine.order(("MUG-1", 1))).json()["id"]
    pid = (
        await mine.call(
            "POST",
            "/payments/authorize",
            {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}},
        )
    ).json()["id"]
    sid_order = (await mine.order(("MUG-1", 1))).json()["id"]
    await mine.call(
        "POST",
        "/payments/charge",
        {"order_id": sid_order, "payment_method": {"type": "card", "token": "tok_visa"}},
    )
    sid = (await mine.call("POST", f"/orders/{sid_order}/shipments", {"carrier": "ups"})).json()[
        "id"
    ]

    routes: list[tuple[str, str, Any]] = [
        ("GET", f"/orders/{oid}", None),
        ("GET", f"/orders/{oid}/payments", None),
        ("GET", f"/orders/{oid}/history", None),
        ("PATCH", f"/orders/{oid}", {"status": "processing"}),
        ("POST", f"/orders/{oid}/cancel", {"reason": "x"}),
        ("POST", f"/orders/{oid}/refund", {"amount": 1}),
        ("POST", f"/orders/{oid}/shipments", {"carrier": "ups"}),
        ("GET", f"/payments/{pid}", None),
        ("POST", f"/payments/{pid}/capture", {}),
        ("POST", f"/payments/{pid}/void", None),
        ("POST", f"/payments/{pid}/refund", {"amount": 1}),
        (
            "POST",
            "/payments/authorize",
            {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}},
        ),
        (
            "POST",
            "/payments/charge",
            {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}},
        ),
        ("GET", f"/shipments/{sid}", None),
        ("POST", f"/shipments/{sid}/events", {"status": "delivered"}),
    ]
    for method, path, body in routes:
        response = await theirs.call(method, path, body)
        assert response.status_code == 404, (method, path, response.text)
    assert (await mine.call("GET", f"/orders/{oid}")).json()["status"] == "pending_payment"


async def test_staff_refunds_above_the_threshold_wait_for_an_admin(api: Api) -> None:
    tenant, admin_key = await api.tenant("shop")
    staff = Shop(api, await api.key(tenant, Role.STAFF))
    admin = Shop(api, admin_key)
    await admin.stock_product("TV-1", 150_000, 2)
    oid = (await admin.order(("TV-1", 1))).json()["id"]
    await admin.call(
        "POST",
        "/payments/charge",
        {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}},
    )

    held = await staff.call("POST", f"/orders/{oid}/refund", {"amount": 120_000})
    assert held.status_code == 201, held.text
    assert held.json()["status"] == "pending_approval"  # ADR 0020: no money moved
    small = await staff.call("POST", f"/orders/{oid}/refund", {"amount": 1_000})
    assert small.status_code == 201, small.text
    # cumulative: the 120,000 awaiting approval counts, so this one waits too
    assert small.json()["status"] == "pending_approval"
    big = await admin.call("POST", f"/orders/{oid}/refund", {"amount": 120_000})
    assert big.status_code == 201, big.text
