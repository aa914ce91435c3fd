"""Operator keys, service grants and what each role may do with money and erasure, over
HTTP on PostgreSQL (the CLI as a process); ADR 0019."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from adapters.memory.clock import RandomIds, SystemClock
from adapters.postgres.tenants import PostgresTenants
from commerce_core.tenancy.ports.tenants import PLATFORM_SLUG, Grant, Role, hash_api_key
from entrypoints.tenancy import issue_operator_key
from tests.conftest import PgSchema
from tests.integration.http.conftest import Api, bearer
from tests.integration.http.test_cli import Cli
from tests.integration.http.test_orders_api import Shop

PROBLEM = "https://commerce-core.dev/problems/"


@pytest.fixture
def cli(pg_schema: PgSchema) -> Cli:
    return Cli(pg_schema)


@pytest.fixture
async def tenants(pg_schema: PgSchema) -> AsyncIterator[PostgresTenants]:
    pool = await pg_schema.pool(max_size=2)
    yield PostgresTenants(pool)
    await pool.close()


async def test_key_create_makes_operator_keys_in_the_platform_tenant_and_grants_service_keys(
    cli: Cli, tenants: PostgresTenants
) -> None:
    await cli.json("tenant", "create", "acme")

    operator = await cli.json("key", "create", "--role", "operator")
    again = await cli.json("key", "create", "--role", "operator", "--tenant", PLATFORM_SLUG)
    granted = await cli.json(
        "key", "create", "--tenant", "acme", "--role", "service", "--grant", "refunds"
    )
    plain = await cli.json("key", "create", "--tenant", "acme", "--role", "service")

    platform = await tenants.tenant_by_slug(PLATFORM_SLUG)
    assert platform is not None
    keys = {
        name: await tenants.key_by_hash(hash_api_key(issued["api_key"]))
        for name, issued in (
            ("operator", operator),
            ("again", again),
            ("granted", granted),
            ("plain", plain),
        )
    }
    assert {(k.role, k.tenant_id) for k in (keys["operator"], keys["again"]) if k} == {
        (Role.OPERATOR, platform.id)
    }
    assert keys["granted"] is not None
    assert keys["granted"].grants == {Grant.REFUNDS}
    assert keys["plain"] is not None
    assert keys["plain"].grants == frozenset()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tenant", "acme", "--role", "operator"), "operator keys belong to"),
        (("--tenant", "acme", "--role", "staff", "--grant", "refunds"), "grants are for service"),
        (("--tenant", PLATFORM_SLUG, "--role", "admin"), "operator keys only"),
        (("--role", "admin"), "--tenant is needed"),
        (("--tenant", "acme", "--role", "service", "--grant", "erase"), "Invalid value"),
    ],
)
async def test_keys_that_make_no_sense_are_refused_and_none_is_stored(
    cli: Cli, tenants: PostgresTenants, args: tuple[str, ...], message: str
) -> None:
    created = await cli.json("tenant", "create", "acme")
    await cli.json("key", "create", "--role", "operator")  # the platform tenant exists

    code, out, err = await cli.run("key", "create", *args)

    assert (code, out) == (2, "")
    assert message in err
    assert len(await tenants.keys_of(uuid.UUID(created["tenant_id"]))) == 1


async def test_no_tenant_can_take_the_platform_slug(cli: Cli) -> None:
    code, out, err = await cli.run("tenant", "create", PLATFORM_SLUG)

    assert (code, out) == (1, "")
    assert "exists already" in err


async def paid_order(shop: Shop) -> dict[str, Any]:
    """An order of 2 x 10.00 (+ tax) charged on the test gateway."""
    await shop.stock_product("MUG-1", 1000, 10)
    order = (await shop.order(("MUG-1", 2))).json()
    body = {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}}
    charged = await shop.call("POST", "/payments/charge", body)
    assert charged.status_code == 201, charged.text
    return {**order, "payment_id": charged.json()["id"]}


def forbidden(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["type"] == PROBLEM + "forbidden"


async def test_a_service_key_refunds_nothing_without_the_grant(api: Api) -> None:
    tenant, admin = await api.tenant("acme")
    shop = Shop(api, admin)
    order = await paid_order(shop)
    service = Shop(api, await api.key(tenant, Role.SERVICE))
    granted = Shop(api, await api.key(tenant, Role.SERVICE, frozenset({Grant.REFUNDS})))

    by_order = await service.call("POST", f"/orders/{order['id']}/refund", {"reason": "x"})
    by_payment = await service.call(
        "POST", f"/payments/{order['payment_id']}/refund", {"amount": 100}
    )
    cancelled = await service.call("POST", f"/orders/{order['id']}/cancel", {"reason": "x"})
    patched = await service.call("PATCH", f"/orders/{order['id']}", {"status": "cancelled"})
    unchanged = (await shop.call("GET", f"/payments/{order['payment_id']}")).json()
    allowed = await granted.call("POST", f"/payments/{order['payment_id']}/refund", {"amount": 100})

    for refused in (by_order, by_payment, cancelled, patched):
        forbidden(refused)
    assert "refunds" in by_payment.json()["detail"]
    assert (unchanged["refunded"], unchanged["status"]) == (0, "captured")
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["amount"] == 100


async def test_a_service_key_cancels_an_unpaid_order_without_the_grant(api: Api) -> None:
    tenant, admin = await api.tenant("acme")
    shop = Shop(api, admin)
    await shop.stock_product("MUG-1", 1000, 10)
    order = (await shop.order(("MUG-1", 1))).json()
    service = Shop(api, await api.key(tenant, Role.SERVICE))

    cancelled = await service.call("POST", f"/orders/{order['id']}/cancel", {"reason": "x"})

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"


async def test_a_service_key_cannot_erase_a_customer_and_staff_can(api: Api) -> None:
    tenant, admin = await api.tenant("acme")
    shop = Shop(api, admin)
    made = await shop.call("POST", "/customers", {"email": "ada@example.com", "name": "Ada"})
    path = f"/customers/{made.json()['id']}"
    service = Shop(api, await api.key(tenant, Role.SERVICE))
    staff = Shop(api, await api.key(tenant, Role.STAFF))

    refused = await service.call("DELETE", path)
    still = await shop.call("GET", path)
    erased = await staff.call("DELETE", path)

    forbidden(refused)
    assert still.json()["email"] == "ada@example.com"
    assert erased.status_code == 204, erased.text


async def test_an_operator_key_reaches_no_tenant_s_data(api: Api) -> None:
    _, admin = await api.tenant("acme")
    shop = Shop(api, admin)
    order = await paid_order(shop)
    operator = Shop(api, await api.operator_key())

    for method, path in (
        ("GET", f"/orders/{order['id']}"),
        ("GET", "/orders"),
        ("GET", f"/payments/{order['payment_id']}"),
        ("POST", f"/orders/{order['id']}/cancel"),
        ("GET", "/admin/fee-tiers"),
        ("GET", "/admin/gateways"),
    ):
        forbidden(await operator.call(method, path, {"reason": "x"} if method == "POST" else None))


async def test_operators_list_tenants_and_set_their_fee_terms_and_admins_cannot(
    api: Api,
) -> None:
    acme, acme_admin = await api.tenant("acme")
    globex, _ = await api.tenant("globex")
    operator = bearer(await api.operator_key())
    path = f"/api/v1/admin/tenants/{acme.id}/fee-tiers"

    listed = await api.client.get("/api/v1/admin/tenants", headers=operator)
    own_tier = await api.client.put(path, json={"tier": "enterprise"}, headers=bearer(acme_admin))
    old_route = await api.client.put(
        "/api/v1/admin/fee-tiers", json={"tier": "enterprise"}, headers=bearer(acme_admin)
    )
    changed = await api.client.put(path, json={"tier": "professional"}, headers=operator)
    missing = await api.client.put(
        f"/api/v1/admin/tenants/{uuid.uuid4()}/fee-tiers",
        json={"tier": "enterprise"},
        headers=operator,
    )
    seen = await api.client.get("/api/v1/admin/fee-tiers", headers=bearer(acme_admin))

    assert [t["slug"] for t in listed.json()] == ["acme", "globex"]
    assert {t["id"] for t in listed.json()} == {str(acme.id), str(globex.id)}
    forbidden(own_tier)
    assert old_route.status_code == 405
    assert changed.status_code == 200, changed.text
    assert missing.status_code == 404
    assert seen.json()["tier"] == "professional"
    globex_terms = await api.client.get(
        f"/api/v1/admin/tenants/{globex.id}/fee-tiers", headers=operator
    )
    assert globex_terms.json()["tier"] == "starter"


async def test_metrics_need_an_operator_key(api: Api) -> None:
    _, admin = await api.tenant("acme")

    anonymous = await api.client.get("/metrics")
    tenant_admin = await api.client.get("/metrics", headers=bearer(admin))
    bogus = await api.client.get("/metrics", headers=bearer("ck_live_nobody"))
    operator = await api.client.get("/metrics", headers=bearer(await api.operator_key()))

    assert anonymous.status_code == bogus.status_code == 401
    forbidden(tenant_admin)
    assert operator.status_code == 200
    assert "http_requests_total" in operator.text


async def test_metrics_on_their_own_address_need_no_key(make_api: Any) -> None:
    api = await make_api(metrics_address="127.0.0.1:0")
    server = api.app.state.metrics_server
    host, port = server.sockets[0].getsockname()[:2]
    await api.client.get("/health")

    async with httpx.AsyncClient(base_url=f"http://{host}:{port}") as outside:
        scraped = await outside.get("/metrics")
        other = await outside.get("/api/v1/orders")

    assert scraped.status_code == 200
    assert 'http_requests_total{method="GET",path="/health",status="200"}' in scraped.text
    assert other.status_code == 404


async def test_operator_keys_made_at_once_share_one_platform_tenant(
    tenants: PostgresTenants,
) -> None:
    clock, ids = SystemClock(), RandomIds()

    issued = await asyncio.gather(
        *(issue_operator_key(tenants, clock=clock, ids=ids) for _ in range(6))
    )

    platform = [t for t in await tenants.all_tenants() if t.slug == PLATFORM_SLUG]
    assert len(platform) == 1
    assert {i.key.tenant_id for i in issued} == {platform[0].id}
    assert len(await tenants.keys_of(platform[0].id)) == 6
