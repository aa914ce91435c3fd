"""End to end over HTTP on PostgreSQL and the real NATS JetStream: an order placed, paid,
shipped, delivered and refunded, and its customer erased, gives exactly the documented
integration events, once each, in order per order, with none of the customer's data."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from commerce_core.integration import IntegrationEvent, decode_integration_event
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.privacy import in_the_clear

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture
async def js() -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(NATS_URL)
    yield nc.jetstream()
    await nc.close()


async def call(api: Api, key: str, method: str, path: str, body: Any = None) -> Any:
    response = await api.client.request(method, f"/api/v1{path}", json=body, headers=bearer(key))
    assert response.status_code in (200, 201), response.text
    return response.json()


async def read_all(js: JetStreamContext, stream: str, subject: str) -> list[tuple[str, bytes]]:
    sub = await js.pull_subscribe(subject, durable=f"e2e{uuid.uuid4().hex[:6]}", stream=stream)
    seen: list[tuple[str, bytes]] = []
    while True:
        try:
            msgs = await sub.fetch(100, timeout=1)
        except TimeoutError:
            return seen
        for msg in msgs:
            seen.append((msg.subject, msg.data))
            await msg.ack()


async def test_an_orders_life_over_http_reaches_jetstream_once_in_order_without_personal_data(
    make_api: MakeApi, js: JetStreamContext
) -> None:
    run = uuid.uuid4().hex[:10]
    stream, prefix = f"TEST_{run.upper()}", f"t{run}"
    api = await make_api(nats_url=NATS_URL, nats_stream=stream, nats_subject_prefix=prefix)
    tenant, admin = await api.tenant("e2eshop")
    _, other_admin = await api.tenant("e2eother")
    address = {
        "name": f"Zqname{run}",
        "line1": f"Zqstreet{run} 1",
        "city": f"Zqcity{run}",
        "postal_code": "94107",
        "country": "US",
    }
    customer = await call(
        api,
        admin,
        "POST",
        "/customers",
        {"email": f"zqmail{run}@example.com", "name": f"Zqname{run}", "phone": "+1 415 5550199"},
    )
    product = {"name": "Mug", "price": {"amount": 1500, "currency": "USD"}}
    for key in (admin, other_admin):
        await call(api, key, "PUT", "/products/MUG-1", product)
        await call(api, key, "POST", "/inventory/MUG-1/receipts", {"quantity": 5})
    order = await call(
        api,
        admin,
        "POST",
        "/orders",
        {
            "customer": {"id": customer["id"]},
            "lines": [{"sku": "MUG-1", "quantity": 2}],
            "currency": "USD",
            "shipping_address": address,
        },
    )
    card = {"type": "card", "token": "tok_visa"}
    await call(
        api, admin, "POST", "/payments/charge", {"order_id": order["id"], "payment_method": card}
    )
    shipment = await call(
        api,
        admin,
        "POST",
        f"/orders/{order['id']}/shipments",
        {"carrier": "ups", "tracking_number": "1Z999"},
    )
    await call(api, admin, "POST", f"/shipments/{shipment['id']}/events", {"status": "delivered"})
    await call(
        api,
        admin,
        "POST",
        f"/orders/{order['id']}/refund",
        {"amount": 500, "reason": f"Zqreason{run}"},
    )
    erased = await api.client.delete(f"/api/v1/customers/{customer['id']}", headers=bearer(admin))
    assert erased.status_code in (200, 204), erased.text
    other = await call(
        api,
        other_admin,
        "POST",
        "/orders",
        {
            "customer": {"email": "b@example.com"},
            "lines": [{"sku": "MUG-1", "quantity": 1}],
            "currency": "USD",
        },
    )

    operator = await api.operator_key()
    try:
        async with asyncio.timeout(30):
            while True:  # the relay runs in the app's background work
                state = await call(api, operator, "GET", "/admin/relay")
                try:
                    subjects = {s for s, _ in await read_all(js, stream, f"{prefix}.>")}
                except NotFoundError:  # the relay has not made its stream yet
                    subjects = set()
                if state["lag"] == 0 and f"{prefix}.{tenant.id}.customer.erased" in subjects:
                    break
                await asyncio.sleep(0.1)
        mine = await read_all(js, stream, f"{prefix}.{tenant.id}.>")
    finally:
        await js.delete_stream(stream)

    events: list[IntegrationEvent] = [decode_integration_event(data) for _, data in mine]
    assert len({e.id for e in events}) == len(events)  # each once
    of_order = [str(e.type) for e in events if e.partition == uuid.UUID(order["id"])]
    assert of_order == [
        "order.placed",
        "order.paid",
        "order.shipped",
        "order.delivered",
        "order.refunded",
    ]
    kinds = {str(e.type) for e in events}
    assert {
        "payment.created",
        "payment.captured",
        "payment.refunded",
        "shipment.created",
        "shipment.tracking_updated",
    } <= kinds
    assert "customer.erased" in kinds
    assert {e.tenant for e in events} == {str(tenant.id)}
    assert uuid.UUID(other["id"]) not in {e.partition for e in events}
    text = in_the_clear(b"".join(data for _, data in mine).decode())
    for marker in (f"Zqname{run}", f"zqmail{run}", f"Zqstreet{run}", f"Zqcity{run}", "5550199"):
        assert marker not in text
    assert f"Zqreason{run}" not in text  # free text stays out too
