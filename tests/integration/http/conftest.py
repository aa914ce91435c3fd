"""A running app on a private PostgreSQL schema, test-only routes, and an HTTP client.

Requests go through ``httpx.ASGITransport`` in the test's own event loop, so that
requests sent together really run concurrently (litestar's ``AsyncTestClient``
runs the app in a blocking portal and would serialize them).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest
from litestar import Litestar, Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from commerce_core.eventstore import AggregateNotFoundError, ConcurrencyError
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.tenancy.ports.tenants import Grant, Role, Tenant
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.http.auth import Principal, ensure_tenant, requires_role
from entrypoints.settings import Settings
from entrypoints.tenancy import create_tenant, issue_key, issue_operator_key
from tests.conftest import TEST_DATABASE_URL, PgSchema

GATE_TIMEOUT = 10.0


class Probe:
    """What the test routes did: how often they ran, and a gate to hold them."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = asyncio.Event()
        self.gate = asyncio.Event()
        self.resources: dict[UUID, UUID] = {}  # resource id -> tenant id


class Item(msgspec.Struct):
    name: str
    quantity: int


_DOMAIN_ERRORS: dict[str, Exception] = {
    "transition": InvalidTransitionError("order", "paid", "pending_payment"),
    "value": InvalidValueError("quantity must be positive"),
    "concurrency": ConcurrencyError(UUID(int=7), 3),
    "missing": AggregateNotFoundError(UUID(int=8)),
}


def probe_routes(probe: Probe) -> list[Router]:
    @post("/counter")
    async def counter(
        data: JSONBody[dict[str, Any]],
        principal: NamedDependency[Principal],
        idempotency_key: NamedDependency[str | None],
    ) -> dict[str, Any]:
        probe.calls += 1
        return {"calls": probe.calls, "key": idempotency_key, "tenant": str(principal.tenant_id)}

    @post("/held")
    async def held() -> dict[str, int]:
        probe.calls += 1
        probe.entered.set()
        await asyncio.wait_for(probe.gate.wait(), GATE_TIMEOUT)
        return {"calls": probe.calls}

    @post("/fail")
    async def fail(data: JSONBody[dict[str, Any]]) -> None:
        probe.calls += 1
        raise RuntimeError("postgres://admin:hunter2@db failed")

    @post("/items")
    async def items(data: JSONBody[Item]) -> Item:
        return data

    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("postgres://admin:hunter2@db failed")

    @post("/domain/{kind:str}")
    async def domain(kind: FromPath[str]) -> None:
        raise _DOMAIN_ERRORS[kind]

    @get("/whoami")
    async def whoami(principal: NamedDependency[Principal]) -> Principal:
        return principal

    @get("/admin-only", guards=[requires_role(Role.ADMIN)])
    async def admin_only() -> dict[str, bool]:
        return {"ok": True}

    @get("/staff-only", guards=[requires_role("staff")])
    async def staff_only() -> dict[str, bool]:
        return {"ok": True}

    @get("/resources/{resource_id:uuid}")
    async def resource(
        resource_id: FromPath[UUID], principal: NamedDependency[Principal]
    ) -> dict[str, str]:
        owner = probe.resources[resource_id]
        ensure_tenant(owner, principal)
        return {"id": str(resource_id)}

    @get("/_test/ping")
    async def webhook_ping(request: Request[Any, Any, Any]) -> dict[str, bool]:
        return {"authenticated": "auth" in request.scope}

    return [
        Router(
            "/api/v1/_test",
            route_handlers=[
                counter,
                held,
                fail,
                items,
                boom,
                domain,
                whoami,
                admin_only,
                staff_only,
                resource,
            ],
        ),
        Router("/api/v1/webhooks", route_handlers=[webhook_ping]),
    ]


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Drives the ASGI lifespan protocol, as a server does."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> Any:
        return await inbox.get()

    async def send(message: Any) -> None:
        await outbox.put(message)

    scope: Any = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


class Api:
    """The app under test, its container, an HTTP client, and the probe of its test routes."""

    def __init__(self, app: Litestar, client: httpx.AsyncClient, probe: Probe) -> None:
        self.app = app
        self.client = client
        self.probe = probe
        self.container: Container = app.state.container

    async def tenant(self, slug: str) -> tuple[Tenant, str]:
        """A new tenant and its admin key."""
        c = self.container
        tenant, issued = await create_tenant(c.tenants(), slug, clock=c.clock(), ids=c.ids())
        return tenant, issued.secret

    async def key(self, tenant: Tenant, role: Role, grants: frozenset[Grant] = frozenset()) -> str:
        c = self.container
        issued = await issue_key(
            c.tenants(), tenant, role, clock=c.clock(), ids=c.ids(), grants=grants
        )
        return issued.secret

    async def operator_key(self) -> str:
        """A key of the platform's operators (role ``operator``)."""
        c = self.container
        return (await issue_operator_key(c.tenants(), clock=c.clock(), ids=c.ids())).secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(pg_schema: PgSchema) -> AsyncIterator[MakeApi]:
    """Starts apps on the test's schema; ``overrides`` change their settings."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Api:
            settings = dataclasses.replace(
                Settings.from_env(),
                database_url=TEST_DATABASE_URL,
                database_schema=pg_schema.name,
                event_store="postgres",
                db_pool_min=1,
                db_pool_max=20,
                **{"api_key_cache_ttl": 0.0, **overrides},
            )
            app = create_app(settings)
            probe = Probe()
            for router in probe_routes(probe):
                app.register(router)
            await stack.enter_async_context(lifespan(app))
            asgi_app: Any = app  # litestar's ASGI types are narrower than httpx's
            transport = httpx.ASGITransport(app=asgi_app)
            client = httpx.AsyncClient(transport=transport, base_url="http://test")
            await stack.enter_async_context(client)
            return Api(app, client, probe)

        yield start


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api()
