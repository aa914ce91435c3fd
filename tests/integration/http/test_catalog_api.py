"""Catalog and stock over HTTP: PUT /products/{sku}, receipts, stock levels."""

from __future__ import annotations

from tests.integration.http.conftest import Api, bearer

PROBLEM = "https://commerce-core.dev/problems/"


async def test_a_product_is_put_then_stock_received_and_read(api: Api) -> None:
    _, key = await api.tenant("shop")
    auth = bearer(key)

    put = await api.client.put(
        "/api/v1/products/MUG-1",
        json={"name": "Mug", "price": {"amount": 1200, "currency": "USD"}, "tax_rate_bps": 825},
        headers=auth,
    )
    assert put.status_code == 200, put.text
    assert put.json()["price"] == {"amount": 1200, "currency": "USD"}

    receipt = await api.client.post(
        "/api/v1/inventory/MUG-1/receipts", json={"quantity": 7}, headers=auth
    )
    assert receipt.status_code == 201, receipt.text
    assert receipt.json() == {
        "sku": "MUG-1",
        "on_hand": 7,
        "reserved": 0,
        "available": 7,
        "locations": [{"location_id": "default", "on_hand": 7, "reserved": 0, "available": 7}],
    }
    await api.client.post(
        "/api/v1/inventory/MUG-1/receipts",
        json={"quantity": 3, "location_id": "north"},
        headers=auth,
    )

    stock = (await api.client.get("/api/v1/inventory/MUG-1", headers=auth)).json()
    assert (stock["on_hand"], stock["available"]) == (10, 10)
    assert [loc["location_id"] for loc in stock["locations"]] == ["default", "north"]


async def test_bad_products_and_receipts_get_validation_problems(api: Api) -> None:
    _, key = await api.tenant("shop")
    auth = bearer(key)
    bad_products = [
        {"name": "Mug", "price": {"amount": 12.5, "currency": "USD"}},
        {"name": "Mug", "price": {"amount": -1, "currency": "USD"}},
        {"name": "Mug", "price": {"amount": 1, "currency": "usd"}},
        {"name": "", "price": {"amount": 1, "currency": "USD"}},
        {"name": "Mug", "price": {"amount": 1, "currency": "USD"}, "tax_rate_bps": 20_000},
        {"name": "Mug"},
    ]
    for body in bad_products:
        response = await api.client.put("/api/v1/products/MUG-1", json=body, headers=auth)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["type"] == PROBLEM + "validation-error"

    await api.client.put(
        "/api/v1/products/MUG-1",
        json={"name": "Mug", "price": {"amount": 1, "currency": "USD"}},
        headers=auth,
    )
    for quantity in (0, -5, 1.5, None):
        response = await api.client.post(
            "/api/v1/inventory/MUG-1/receipts", json={"quantity": quantity}, headers=auth
        )
        assert response.status_code == 422, quantity
    stock = (await api.client.get("/api/v1/inventory/MUG-1", headers=auth)).json()
    assert stock["on_hand"] == 0


async def test_stock_of_an_unknown_sku_is_not_found(api: Api) -> None:
    _, key = await api.tenant("shop")
    for response in (
        await api.client.get("/api/v1/inventory/NOPE", headers=bearer(key)),
        await api.client.post(
            "/api/v1/inventory/NOPE/receipts", json={"quantity": 1}, headers=bearer(key)
        ),
    ):
        assert response.status_code == 404
        assert response.json()["type"] == PROBLEM + "not-found"


async def test_another_tenant_cannot_see_or_stock_my_products(api: Api) -> None:
    _, mine = await api.tenant("mine")
    _, theirs = await api.tenant("theirs")
    await api.client.put(
        "/api/v1/products/MUG-1",
        json={"name": "Mug", "price": {"amount": 1, "currency": "USD"}},
        headers=bearer(mine),
    )

    assert (
        await api.client.get("/api/v1/products/MUG-1", headers=bearer(theirs))
    ).status_code == 404
    assert (
        await api.client.get("/api/v1/inventory/MUG-1", headers=bearer(theirs))
    ).status_code == 404
    receipt = await api.client.post(
        "/api/v1/inventory/MUG-1/receipts", json={"quantity": 1}, headers=bearer(theirs)
    )
    assert receipt.status_code == 404
