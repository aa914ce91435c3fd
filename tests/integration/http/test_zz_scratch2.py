import json
from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import shop


async def test_domain(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    out = []

    def rec(label, r):
        out.append(f"{label}: {r.status_code} {r.text[:400]}")

    oid = (await s.order(("MUG-1", 2))).json()["id"]
    pm = {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}}
    rec("charge1", await s.call("POST", "/payments/charge", pm))
    rec("charge2", await s.call("POST", "/payments/charge", pm))
    rec("authorize-paid", await s.call("POST", "/payments/authorize", pm))
    rec("patch-paid", await s.call("PATCH", f"/orders/{oid}", {"status": "paid"}))
    rec("patch-shipped", await s.call("PATCH", f"/orders/{oid}", {"status": "shipped"}))
    rec("patch-delivered", await s.call("PATCH", f"/orders/{oid}", {"status": "delivered"}))
    rec("ship1", await s.call("POST", f"/orders/{oid}/shipments", {"carrier": "ups"}))
    rec("ship2", await s.call("POST", f"/orders/{oid}/shipments", {"carrier": "ups"}))
    rec(
        "ship-unknown-sku",
        await s.call(
            "POST",
            f"/orders/{oid}/shipments",
            {"carrier": "ups", "lines": [{"sku": "NOPE", "quantity": 1}]},
        ),
    )
    rec(
        "refund-too-much",
        await s.call("POST", f"/orders/{oid}/refund", {"amount": 10**9, "reason": "x"}),
    )
    rec("cancel-shipped", await s.call("POST", f"/orders/{oid}/cancel", {"reason": "x"}))
    bt = (await s.order(("MUG-1", 1), payment_method="bank_transfer")).json()["id"]
    rec(
        "bt-manual",
        await s.call(
            "POST", f"/orders/{bt}/payments/manual", {"method": "bank_transfer", "reference": "B-1"}
        ),
    )
    rec("bt-refund", await s.call("POST", f"/orders/{bt}/refund", {"reason": "x"}))
    rec(
        "bt-charge",
        await s.call(
            "POST",
            "/payments/charge",
            {"order_id": bt, "payment_method": {"type": "card", "token": "tok_visa"}},
        ),
    )
    o3 = (await s.order(("MUG-1", 1))).json()["id"]
    rec("cancel", await s.call("POST", f"/orders/{o3}/cancel", {"reason": "x"}))
    rec("cancel2", await s.call("POST", f"/orders/{o3}/cancel", {"reason": "x"}))
    rec(
        "charge-cancelled",
        await s.call(
            "POST",
            "/payments/charge",
            {"order_id": o3, "payment_method": {"type": "card", "token": "tok_visa"}},
        ),
    )
    rec("too-much-stock", await s.order(("MUG-1", 100)))
    rec("unknown-product", await s.order(("NOPE-1", 1)))
    rec("zero-qty", await s.order(("MUG-1", 0)))
    rec(
        "bad-currency",
        await s.call(
            "POST",
            "/orders",
            {
                "customer": {"email": "a@b.co"},
                "lines": [{"sku": "MUG-1", "quantity": 1}],
                "currency": "XXX",
            },
        ),
    )
    rec(
        "empty-lines",
        await s.call(
            "POST", "/orders", {"customer": {"email": "a@b.co"}, "lines": [], "currency": "USD"}
        ),
    )
    rec(
        "missing-field",
        await s.call("POST", "/orders", {"customer": {"email": "a@b.co"}, "currency": "USD"}),
    )
    rec(
        "wrong-type",
        await s.call(
            "POST",
            "/orders",
            {
                "customer": {"email": "a@b.co"},
                "lines": [{"sku": "MUG-1", "quantity": "2"}],
                "currency": "USD",
            },
        ),
    )
    rec("bad-enum", await s.call("PATCH", f"/orders/{oid}", {"status": "teleported"}))
    rec("negative-receipt", await s.call("POST", "/inventory/MUG-1/receipts", {"quantity": -1}))
    rec(
        "huge-price",
        await s.call(
            "PUT", "/products/MUG-2", {"name": "x", "price": {"amount": 10**15, "currency": "USD"}}
        ),
    )
    rec("bad-query", await s.call("GET", "/orders?limit=abc"))
    rec("bad-query2", await s.call("GET", "/orders?status=nope"))
    rec("bad-query3", await s.call("GET", "/orders?created_from=yesterday"))
    rec("no-ct-empty", await api.client.post(f"/api/v1/orders/{oid}/cancel", headers=s.auth))
    rec(
        "form",
        await api.client.post(f"/api/v1/orders/{oid}/cancel", headers=s.auth, data={"reason": "x"}),
    )
    rec("405", await api.client.delete("/api/v1/orders", headers=s.auth))
    rec("unknown-route", await api.client.get("/api/v1/nothing", headers=s.auth))
    rec("badday", await api.client.get("/api/v1/admin/reconciliation/not-a-day", headers=s.auth))
    open("/tmp/i13err/domain.txt", "w").write("\n".join(out))
