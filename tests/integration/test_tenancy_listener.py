"""PostgreSQL tells every process's cache about changed tenants and keys (ADR 0050):
migration 0038's triggers and ``TenancyListener``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from adapters.memory.cached_tenants import CachedTenants
from adapters.memory.clock import FixedClock, RandomIds
from adapters.postgres.tenancy_changes import TenancyListener
from adapters.postgres.tenants import PostgresTenants
from commerce_core.tenancy.ports.tenants import Role, Tenant, hash_api_key
from entrypoints.tenancy import create_tenant, issue_key
from tests.conftest import PgSchema


class Process:
    """One process's cache and listener on the schema, and a store of its own."""

    def __init__(self, schema: PgSchema) -> None:
        self.schema = schema

    async def __aenter__(self) -> Process:
        self.pool = await self.schema.pool(max_size=4)
        self.store = PostgresTenants(self.pool)
        self.cache = CachedTenants(self.store, ttl=300)
        self.listener = TenancyListener(
            self.schema.connect, self.cache, self.schema.name, retry_seconds=0.01
        )
        self.task = asyncio.create_task(self.listener.run())
        await asyncio.wait_for(self.listener.listening.wait(), 10)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task
        await self.pool.close()


@pytest.fixture
async def two(pg_schema: PgSchema) -> AsyncIterator[tuple[Process, Process]]:
    async with Process(pg_schema) as here, Process(pg_schema) as there:
        yield here, there


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 10) -> None:
    """Waits until ``check()`` holds: for the notification to arrive, not for time
    (it arrives on the listener's connection: there is no event of ours to await)."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_a_settings_change_in_one_process_reaches_the_others_cache(
    two: tuple[Process, Process],
) -> None:
    here, there = two
    tenant, _ = await create_tenant(here.store, "acme", clock=FixedClock(), ids=RandomIds())
    other, _ = await create_tenant(here.store, "other", clock=FixedClock(), ids=RandomIds())
    await there.cache.get_tenant(tenant.id)
    await there.cache.get_tenant(other.id)

    await here.cache.merge_settings(tenant.id, {"reservation_minutes": 5})

    async def changed() -> bool:
        seen = await there.cache.get_tenant(tenant.id)
        return seen is not None and seen.settings.reservation_minutes == 5

    await until(changed)
    untouched = await there.cache.get_tenant(other.id)
    assert untouched is not None
    assert untouched.settings.reservation_minutes == 30


async def test_a_key_revoked_in_one_process_stops_working_in_the_others(
    two: tuple[Process, Process],
) -> None:
    here, there = two
    tenant, issued = await create_tenant(here.store, "acme", clock=FixedClock(), ids=RandomIds())
    second = await issue_key(here.store, tenant, Role.STAFF, clock=FixedClock(), ids=RandomIds())
    key = await there.cache.key_by_hash(hash_api_key(issued.secret))
    assert key is not None
    assert key.active
    await there.cache.key_by_hash(hash_api_key(second.secret))

    await here.cache.revoke_key(key.id, datetime.now(UTC))

    async def revoked() -> bool:
        seen = await there.cache.key_by_hash(hash_api_key(issued.secret))
        return seen is not None and not seen.active

    await until(revoked)
    kept = await there.cache.key_by_hash(hash_api_key(second.secret))
    assert kept is not None
    assert kept.active


async def test_after_a_lost_connection_the_listener_reconnects_and_forgets_everything(
    two: tuple[Process, Process], pg_schema: PgSchema
) -> None:
    """A change made while the listener was away is not announced to it: forgetting
    everything on reconnection is what keeps the cache from serving it for the TTL."""
    _, there = two
    tenant = Tenant(id=uuid.uuid4(), slug="acme", created_at=datetime.now(UTC))
    await there.store.add_tenant(tenant)
    await there.cache.get_tenant(tenant.id)
    generation = there.cache.generation
    admin = await pg_schema.connect()
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", there.listener.backend_pid)
    finally:
        await admin.close()

    async def reconnected() -> bool:
        return there.listener.listening.is_set() and there.cache.generation > generation

    await until(reconnected)
    assert await there.cache.get_tenant(tenant.id) == tenant
