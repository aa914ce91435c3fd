"""PostgreSQL unreachable: 503 service-unavailable with Retry-After, then recovery.

The app's pool connects through a proxy in the test process (``CuttableProxy``); the
test cuts it (connections refused, open ones dropped) or drops a connection in the
middle of a query, and restores it. The app is never restarted.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest

from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.app import create_app
from entrypoints.http.unavailable import RETRY_AFTER_SECONDS
from entrypoints.settings import Settings
from entrypoints.tenancy import create_tenant, issue_key
from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.http.conftest import bearer, lifespan
from tests.integration.http.cuttable_proxy import CuttableProxy
from tests.integration.http.test_problems import problem_of

PRODUCT = {"name": "Mug", "price": {"amount": 1200, "currency": "USD"}}


class Shop:
    def __init__(self, client: httpx.AsyncClient, proxy: CuttableProxy, admin: str) -> None:
        self.client = client
        self.proxy = proxy
        self.auth = bearer(admin)

    async def put_product(self, name: str, **headers: str) -> httpx.Response:
        return await self.client.put(
            "/api/v1/products/MUG-1",
            json={**PRODUCT, "name": name},
            headers={**self.auth, **headers},
        )

    async def product_name(self) -> str:
        response = await self.client.get("/api/v1/products/MUG-1", headers=self.auth)
        assert response.status_code == 200, response.text
        name: str = response.json()["name"]
        return name


@pytest.fixture
async def shop(pg_schema: PgSchema) -> AsyncIterator[Shop]:
    proxy = CuttableProxy(TEST_DATABASE_URL)
    await proxy.start()
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=proxy.dsn,
        database_schema=pg_schema.name,
        event_store="postgres",
        db_pool_min=1,
        db_pool_max=4,
        api_key_cache_ttl=0.0,  # every request asks the database for its key
        run_projections=False,  # the requests alone, nothing else on the pool
    )
    app = create_app(settings)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(proxy.close)
        await stack.enter_async_context(lifespan(app))
        c = app.state.container
        tenant, issued = await create_tenant(c.tenants(), "acme", clock=c.clock(), ids=c.ids())
        await issue_key(c.tenants(), tenant, Role.STAFF, clock=c.clock(), ids=c.ids())
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://test")
        )
        yield Shop(client, proxy, issued.secret)


def assert_unavailable(response: httpx.Response) -> None:
    problem_of(response, 503, "service-unavailable")
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


async def test_with_the_database_gone_the_api_answers_503_and_recovers_by_itself(
    shop: Shop,
) -> None:
    assert (await shop.put_product("Mug")).status_code == 200

    await shop.proxy.cut()
    during = [
        await shop.put_product("Mug while down"),
        await shop.client.get("/api/v1/products/MUG-1", headers=shop.auth),
        await shop.client.get("/api/v1/orders", headers=shop.auth),
        await shop.put_product("Mug keyed", **{"Idempotency-Key": "k-1"}),
    ]
    await shop.proxy.restore()

    for response in during:
        assert_unavailable(response)
    assert await shop.product_name() == "Mug"  # the refused change recorded nothing
    assert (await shop.put_product("Mug again")).status_code == 200
    assert await shop.product_name() == "Mug again"
    # the key of the refused request was not kept: the same request now acts
    keyed = await shop.put_product("Mug keyed", **{"Idempotency-Key": "k-1"})
    assert keyed.status_code == 200, keyed.text
    assert await shop.product_name() == "Mug keyed"


async def test_a_connection_dropped_in_the_middle_of_a_request_is_a_503(shop: Shop) -> None:
    assert (await shop.put_product("Mug")).status_code == 200

    shop.proxy.drop_next_query()
    dropped = await shop.put_product("Mug dropped")

    assert_unavailable(dropped)
    assert await shop.product_name() == "Mug"
    assert (await shop.put_product("Mug after")).status_code == 200
    assert await shop.product_name() == "Mug after"


async def test_the_readiness_probe_says_not_ready_while_the_database_is_gone(
    shop: Shop,
) -> None:
    await shop.proxy.cut()
    down = await shop.client.get("/ready")
    await shop.proxy.restore()
    up = await shop.client.get("/ready")

    assert down.status_code == 503, down.text
    assert up.status_code == 200, up.text


async def test_concurrent_requests_while_the_database_is_gone_all_get_503(shop: Shop) -> None:
    assert (await shop.put_product("Mug")).status_code == 200
    await shop.proxy.cut()

    during = await asyncio.gather(*(shop.put_product(f"Mug {i}") for i in range(10)))
    await shop.proxy.restore()

    for response in during:
        assert_unavailable(response)
    assert await shop.product_name() == "Mug"
    after = await asyncio.gather(*(shop.put_product(f"Mug {i}") for i in range(4)))
    assert [r.status_code for r in after] == [200] * 4
