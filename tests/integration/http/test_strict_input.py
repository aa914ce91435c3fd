"""Strict input over HTTP on PostgreSQL: each lenient case of issue 12, now refused.

Strings for numbers, JSON under another content type, unknown fields inside ``lines[]``,
SKUs that orders would refuse, ``restock_lines`` without ``restock``; a signed webhook
with a NUL. Each refusal records nothing.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import msgspec

from entrypoints.http.json_body import MAX_DEPTH
from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import ADDRESS, Shop, shop
from tests.integration.http.test_problems import problem_of
from tests.integration.http.test_webhooks_api import Hooks, event, hooks  # noqa: F401
from tests.stripe_events import SECRET, sign

PRODUCT = {"name": "Mug", "price": {"amount": 1200, "currency": "USD"}}


def refused_field(response: httpx.Response, key: str) -> None:
    body = problem_of(response, 422, "validation-error")
    assert [e["key"] for e in body["errors"]] == [key], body


async def _order_body(**line: Any) -> dict[str, Any]:
    return {
        "customer": {"email": "ada@example.com", "name": "Ada"},
        "lines": [{"sku": "MUG-1", "quantity": 1, **line}],
        "currency": "USD",
        "shipping_address": ADDRESS,
    }


async def _orders(s: Shop) -> int:
    """The orders the tenant has, from their own stream numbers (not a lagging list)."""
    placed = await s.order(("MUG-1", 1))
    assert placed.status_code == 201, placed.text
    return int(placed.json()["number"].removeprefix("ORD-")) - 1


async def test_a_quantity_as_a_string_is_refused_and_places_nothing(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)

    as_string = await s.call("POST", "/orders", await _order_body(quantity="1"))
    as_float = await s.call("POST", "/orders", await _order_body(quantity=1.0))

    refused_field(as_string, "lines[0].quantity")
    refused_field(as_float, "lines[0].quantity")
    assert await _orders(s) == 0  # the next order is the first
    assert await s.available("MUG-1") == 4  # nothing reserved by the refused ones


async def test_a_price_as_a_string_is_refused_and_defines_nothing(api: Api) -> None:
    s = await shop(api)

    response = await s.call(
        "PUT", "/products/MUG-1", {"name": "Mug", "price": {"amount": "12", "currency": "USD"}}
    )

    refused_field(response, "price.amount")
    problem_of(await s.call("GET", "/products/MUG-1"), 404, "not-found")


async def test_json_sent_as_text_plain_is_unsupported(api: Api) -> None:
    s = await shop(api)

    response = await api.client.put(
        "/api/v1/products/MUG-1",
        content=msgspec.json.encode(PRODUCT),
        headers={**s.auth, "Content-Type": "text/plain"},
    )

    problem_of(response, 415, "unsupported-media-type")
    problem_of(await s.call("GET", "/products/MUG-1"), 404, "not-found")


async def test_an_unknown_field_inside_lines_is_refused_as_elsewhere(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)

    in_line = await s.call("POST", "/orders", await _order_body(colour="red"))
    at_top = await s.call("POST", "/orders", {**await _order_body(), "colour": "red"})
    in_address = await s.call(
        "POST",
        "/orders",
        {**await _order_body(), "shipping_address": {**ADDRESS, "colour": "red"}},
    )

    refused_field(in_line, "lines[0].colour")
    refused_field(at_top, "colour")
    refused_field(in_address, "shipping_address.colour")
    assert await _orders(s) == 0


async def test_skus_that_orders_refuse_are_refused_by_the_catalog_and_stock(api: Api) -> None:
    s = await shop(api)
    for sku in ("sp%20ace", "x" * 300, "MUG-1%0A", "-lead", "caf%C3%A9"):
        put = await s.call("PUT", f"/products/{sku}", PRODUCT)
        receipt = await s.call("POST", f"/inventory/{sku}/receipts", {"quantity": 1})
        read = await s.call("GET", f"/products/{sku}")

        problem_of(put, 422, "validation-error")
        problem_of(receipt, 422, "validation-error")
        assert read.status_code in (404, 422), read.text
    # and the order side of the same rule
    refused = await s.call("POST", "/orders", await _order_body(sku="sp ace"))
    problem_of(refused, 422, "validation-error")


async def _paid_order(s: Shop) -> str:
    await s.stock_product("MUG-1", 1000, 5)
    await s.stock_product("TEE-M", 1000, 5)
    placed = await s.order(("MUG-1", 2), ("TEE-M", 1))
    assert placed.status_code == 201, placed.text
    oid: str = placed.json()["id"]
    card = {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}}
    charged = await s.call("POST", "/payments/charge", card)
    assert charged.status_code == 201, charged.text
    return oid


async def test_restock_lines_imply_a_restock(api: Api) -> None:
    s = await shop(api)
    oid = await _paid_order(s)

    refund = await s.call(
        "POST",
        f"/orders/{oid}/refund",
        {"amount": 100, "restock_lines": [{"sku": "MUG-1", "quantity": 1}]},
    )

    assert refund.status_code == 201, refund.text
    assert await s.available("MUG-1") == 4  # 5 - 2 taken + 1 put back
    assert await s.available("TEE-M") == 4  # not named: not put back


async def test_restock_lines_with_restock_false_are_a_contradiction(api: Api) -> None:
    s = await shop(api)
    oid = await _paid_order(s)

    refund = await s.call(
        "POST",
        f"/orders/{oid}/refund",
        {"amount": 100, "restock": False, "restock_lines": [{"sku": "MUG-1", "quantity": 1}]},
    )

    problem_of(refund, 422, "validation-error")
    assert (await s.call("GET", f"/orders/{oid}")).json()["totals"]["refunded"] == 0
    assert await s.available("MUG-1") == 3


async def test_a_tenant_flooding_malformed_bodies_does_not_disturb_another(api: Api) -> None:
    """Concurrent requests, no Idempotency-Key: one tenant's hostile bodies, another's work."""
    hostile, calm = await shop(api, "hostile"), await shop(api, "calm")
    deep = b"[" * 100_000 + b"]" * 100_000
    headers = {**hostile.auth, "Content-Type": "application/json"}

    async def attack(i: int) -> httpx.Response:
        content = deep if i % 2 else b'{"name": "\xff", "price": {"amount": 2e400}}'
        return await api.client.put("/api/v1/products/MUG-1", content=content, headers=headers)

    async def work(i: int) -> httpx.Response:
        return await calm.call("PUT", f"/products/CALM-{i}", PRODUCT)

    answers = await asyncio.gather(*(attack(i) for i in range(10)), *(work(i) for i in range(10)))

    for response in answers[:10]:
        problem_of(response, 422, "validation-error")
    assert [r.status_code for r in answers[10:]] == [200] * 10
    problem_of(await hostile.call("GET", "/products/MUG-1"), 404, "not-found")


async def test_a_signed_webhook_with_a_nul_is_refused_and_not_stored(hooks: Hooks) -> None:  # noqa: F811
    with_nul = event(name="Ada\u0000")
    assert b"\\u0000" in with_nul
    nested: Any = 1
    for _ in range(MAX_DEPTH):
        nested = [nested]
    too_deep = event(metadata={"a": nested})

    nul = await hooks.post(with_nul)
    deep = await hooks.post(too_deep)

    problem_of(nul, 400, "bad-request")
    problem_of(deep, 400, "bad-request")
    assert await hooks.webhooks.inbox.find() == []
    fine = await hooks.post(event(name="Ada"))
    assert fine.status_code == 200, fine.text


async def test_an_unsigned_webhook_is_refused_before_its_content_matters(hooks: Hooks) -> None:  # noqa: F811
    payload = event(name="Ada\u0000")
    stale = sign(payload, SECRET, int(time.time()) - 3600)

    response = await hooks.post(payload, stale)

    problem_of(response, 400, "invalid-signature")


async def test_without_a_key_the_body_is_not_even_read(api: Api) -> None:
    """The key check answers first, whatever the body."""
    response = await api.client.put(
        "/api/v1/products/MUG-1", content=b"[" * 100_000, headers={"Content-Type": "text/plain"}
    )
    problem_of(response, 401, "unauthorized")


async def test_a_refused_body_leaves_its_idempotency_key_free_for_the_fixed_request(
    api: Api,
) -> None:
    s = await shop(api)
    content = msgspec.json.encode(PRODUCT)

    async def put(content_type: str) -> httpx.Response:
        headers = {**s.auth, "Content-Type": content_type, "Idempotency-Key": "fix-1"}
        return await api.client.put("/api/v1/products/MUG-1", content=content, headers=headers)

    refused = await put("text/plain")
    fixed = await put("application/json")
    replayed = await put("application/json")

    problem_of(refused, 415, "unsupported-media-type")
    assert fixed.status_code == 200, fixed.text
    assert replayed.headers.get("Idempotent-Replayed") == "true"
