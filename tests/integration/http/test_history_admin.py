"""GET /orders/{id}/history (time travel) and the projections admin endpoints, over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from litestar import Router

from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.api.admin import ProjectionsAdminController, close_projection_ops
from entrypoints.http.api.history import HistoryController
from entrypoints.http.auth import API_SECURITY
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.unit.order_story import Clock, Story, tell_story

WAIT = 20.0


@pytest.fixture
async def api(make_api: MakeApi) -> Any:
    started = await make_api()
    paths = {route.path for route in started.app.routes}
    if "/api/v1/admin/projections" not in paths:  # until router.py registers them
        started.app.register(
            Router(
                "/api/v1",
                route_handlers=[HistoryController, ProjectionsAdminController],
                security=API_SECURITY,
            )
        )
    yield started
    await close_projection_ops(started.app.state)


async def story_of(api: Api, tenant_id: uuid.UUID) -> Story:
    return await tell_story(api.container.repository(), Clock(), str(tenant_id))


async def history(api: Api, key: str, order_id: uuid.UUID, as_of: str | None = None) -> Any:
    params = {} if as_of is None else {"as_of": as_of}
    response = await api.client.get(
        f"/api/v1/orders/{order_id}/history", params=params, headers=bearer(key)
    )
    return response


async def test_an_order_history_lists_related_events_in_order_with_metadata(api: Api) -> None:
    tenant, key = await api.tenant("acme")
    story = await story_of(api, tenant.id)

    response = await history(api, key, story.order_id)

    assert response.status_code == 200, response.text
    body = response.json()
    types = [e["type"] for e in body["events"]]
    assert types[:3] == ["Order.Placed", "OrderLedger.Started", "StockItem.Reserved"]
    assert types[-2:] == ["Shipment.Created", "Order.ShipmentRecorded"]
    assert {"Payment.Failed", "Payment.Captured", "Payment.RefundSucceeded"} <= set(types)
    assert types.count("StockItem.Reserved") == 1  # the other order's reservation is not here
    positions = [e["position"] for e in body["events"]]
    assert positions == sorted(positions)
    refund = next(e for e in body["events"] if e["type"] == "Payment.RefundRequested")
    assert refund["stream"] == str(story.payment_id)
    assert refund["data"]["reason"] == "chipped"
    assert refund["metadata"] == {
        "tenant_id": str(tenant.id),
        "actor": "key:2",
        "correlation_id": "refund",
        "causation_id": "c-refund",
    }
    assert refund["at"].endswith("Z")
    state = body["state"]
    assert (state["status"], state["version"]) == ("shipped", 5)
    assert state["totals"] == {
        "subtotal": 2000,
        "discount": 0,
        "tax": 0,
        "shipping": 0,
        "total": 2000,
        "paid": 2000,
        "refunded": 500,
        "currency": "USD",
    }


async def test_history_as_of_a_version_and_as_of_a_timestamp(api: Api) -> None:
    tenant, key = await api.tenant("acme")
    story = await story_of(api, tenant.id)
    everything = (await history(api, key, story.order_id)).json()["events"]
    paid_at = next(e["at"] for e in everything if e["type"] == "Order.PaymentRecorded")

    by_version = (await history(api, key, story.order_id, "2")).json()
    by_time = (await history(api, key, story.order_id, paid_at)).json()

    assert by_version["state"]["status"] == "payment_failed"
    assert by_version["state"]["version"] == 2
    assert by_version["events"][-1]["type"] == "Order.PaymentFailed"
    assert by_time["state"]["status"] == "paid"
    assert by_time["state"]["totals"]["refunded"] == 0
    assert by_time["events"][-1]["at"] == paid_at
    assert all(e["at"] <= paid_at for e in by_time["events"])


async def test_another_tenant_gets_404_and_a_bad_as_of_gets_422(api: Api) -> None:
    tenant, key = await api.tenant("acme")
    _, other_key = await api.tenant("globex")
    story = await story_of(api, tenant.id)

    other = await history(api, other_key, story.order_id)
    missing = await history(api, key, uuid.uuid4())
    bad = await history(api, key, story.order_id, "last tuesday")
    beyond = await history(api, key, story.order_id, "99")

    assert other.status_code == 404
    assert missing.status_code == 404
    assert (bad.status_code, bad.json()["type"].rsplit("/", 1)[1]) == (422, "validation-error")
    assert beyond.status_code == 422


async def test_staff_may_read_history_and_a_service_key_may_not(api: Api) -> None:
    tenant, _ = await api.tenant("acme")
    story = await story_of(api, tenant.id)
    staff = await api.key(tenant, Role.STAFF)
    service = await api.key(tenant, Role.SERVICE)

    assert (await history(api, staff, story.order_id)).status_code == 200
    assert (await history(api, service, story.order_id)).status_code == 403


async def test_a_payment_history_shows_its_refund_and_state(api: Api) -> None:
    tenant, key = await api.tenant("acme")
    story = await story_of(api, tenant.id)

    response = await api.client.get(
        f"/api/v1/payments/{story.payment_id}/history",
        params={"as_of": "3"},
        headers=bearer(key),
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert [e["type"] for e in body["events"]][-1] == "Payment.Captured"
    assert body["state"]["status"] == "captured"


async def projections(api: Api, key: str) -> list[dict[str, Any]]:
    response = await api.client.get("/api/v1/admin/projections", headers=bearer(key))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def until(api: Api, key: str, check: Any) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        while True:
            order_list = next(p for p in await projections(api, key) if p["name"] == "order_list")
            if check(order_list):
                return order_list
            await asyncio.sleep(0.05)


async def order_list(api: Api, key: str, count: int) -> Any:
    """GET /orders once it lists ``count`` orders."""
    async with asyncio.timeout(WAIT):
        while True:
            response = await api.client.get("/api/v1/orders", headers=bearer(key))
            if len(response.json()["items"]) >= count:
                return response
            await asyncio.sleep(0.05)


async def test_operators_see_projections_and_rebuild_one_while_it_serves(api: Api) -> None:
    tenant, key = await api.tenant("acme")
    operator = await api.operator_key()
    await story_of(api, tenant.id)
    await order_list(api, key, 2)  # the projection is under way
    live = await until(api, operator, lambda p: p["status"] == "live" and p["lag"] == 0)
    orders = await api.client.get("/api/v1/orders", headers=bearer(key))  # caught up

    accepted = await api.client.post(
        "/api/v1/admin/projections/order_list/rebuild", headers=bearer(operator)
    )
    done = await until(api, operator, lambda p: (p["rebuild"] or {}).get("status") == "done")

    assert set(live) >= {"name", "version", "position", "lag", "status"}
    assert (live["version"], live["serving"]) == (1, True)
    assert accepted.status_code == 202
    assert accepted.json()["name"] == "order_list"
    run = done["rebuild"]
    assert run["done"] == run["total"] > 0
    assert run["eta_seconds"] == 0
    after = await api.client.get("/api/v1/orders", headers=bearer(key))
    assert after.json() == orders.json()
    assert len(after.json()["items"]) == 2


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.SERVICE])
async def test_only_operators_rebuild_projections_and_only_they_and_admins_see_them(
    api: Api, role: Role
) -> None:
    tenant, _ = await api.tenant("acme")
    key = await api.key(tenant, role)
    operator = await api.operator_key()

    listed = await api.client.get("/api/v1/admin/projections", headers=bearer(key))
    refused = await api.client.post(
        "/api/v1/admin/projections/order_list/rebuild", headers=bearer(key)
    )
    unknown = await api.client.post(
        "/api/v1/admin/projections/nothing/rebuild", headers=bearer(operator)
    )

    assert listed.status_code == (200 if role is Role.ADMIN else 403)  # an admin: its own view
    assert refused.status_code == 403
    assert unknown.status_code == 404
