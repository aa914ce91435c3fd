"""The HTTP processes' cache of tenants and keys (ADR 0050): what it may answer from
memory, and when it must ask the store again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.cached_tenants import CachedTenants
from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.tenants import MemoryTenants
from adapters.postgres.tenancy_changes import apply_change
from commerce_core.tenancy.ports.tenants import ApiKey, Role, Tenant, hash_api_key
from entrypoints.tenancy import create_tenant

NOW = datetime(2026, 12, 7, tzinfo=UTC)


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class CountingTenants(MemoryTenants):
    """The memory store, counting the look-ups that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        self.reads += 1
        return await super().get_tenant(tenant_id)

    async def key_by_hash(self, key_hash: str) -> ApiKey | None:
        self.reads += 1
        return await super().key_by_hash(key_hash)


async def shop(ttl: float = 30.0) -> tuple[CountingTenants, CachedTenants, Seconds]:
    store, clock = CountingTenants(), Seconds()
    return store, CachedTenants(store, ttl=ttl, clock=clock), clock


async def a_tenant(tenants: Any, slug: str = "acme") -> tuple[Tenant, str]:
    tenant, issued = await create_tenant(tenants, slug, clock=FixedClock(), ids=RandomIds())
    return tenant, issued.secret


async def test_a_tenant_and_a_key_are_read_once_within_the_ttl() -> None:
    store, cache, clock = await shop()
    tenant, secret = await a_tenant(store)

    for _ in range(5):
        assert await cache.get_tenant(tenant.id) == tenant
        assert (await cache.key_by_hash(hash_api_key(secret))) is not None
    clock.now = 30.0
    await cache.get_tenant(tenant.id)

    assert store.reads == 3  # the tenant and the key once, the tenant again after the TTL


async def test_a_settings_change_made_here_applies_to_the_next_read() -> None:
    store, cache, _ = await shop()
    tenant, _ = await a_tenant(store)
    assert (await cache.get_tenant(tenant.id)).settings.reservation_minutes == 30  # type: ignore[union-attr]

    await cache.merge_settings(tenant.id, {"reservation_minutes": 5})
    after_merge = await cache.get_tenant(tenant.id)
    await cache.write_settings(tenant.id, {"reservation_minutes": 7}, 2)
    after_write = await cache.get_tenant(tenant.id)

    assert after_merge is not None
    assert after_merge.settings.reservation_minutes == 5
    assert after_write is not None
    assert after_write.settings.reservation_minutes == 7
    assert after_write.settings_version == 2


async def test_a_key_revoked_here_stops_working_at_the_next_read() -> None:
    store, cache, _ = await shop()
    _, secret = await a_tenant(store)
    key = await cache.key_by_hash(hash_api_key(secret))
    assert key is not None
    assert key.active

    await cache.revoke_key(key.id, NOW)

    after = await cache.key_by_hash(hash_api_key(secret))
    assert after is not None
    assert not after.active


async def test_a_change_made_elsewhere_applies_once_announced_or_after_the_ttl() -> None:
    store, cache, clock = await shop()
    tenant, secret = await a_tenant(store)
    key = await cache.key_by_hash(hash_api_key(secret))
    assert key is not None
    await cache.get_tenant(tenant.id)

    await store.revoke_key(key.id, NOW)  # another process: the cache was not told
    await store.merge_settings(tenant.id, {"reservation_minutes": 5})
    clock.now = 29.9
    stale = await cache.key_by_hash(hash_api_key(secret))
    apply_change(cache, f"public:api_keys:{hash_api_key(secret)}", "public")  # the NOTIFY
    apply_change(cache, f"public:tenants:{tenant.id}", "public")

    assert stale is not None
    assert stale.active
    revoked = await cache.key_by_hash(hash_api_key(secret))
    assert revoked is not None
    assert not revoked.active
    changed = await cache.get_tenant(tenant.id)
    assert changed is not None
    assert changed.settings.reservation_minutes == 5


async def test_without_an_announcement_the_ttl_bounds_staleness() -> None:
    store, cache, clock = await shop(ttl=5.0)
    _, secret = await a_tenant(store)
    key = await cache.key_by_hash(hash_api_key(secret))
    assert key is not None
    await store.revoke_key(key.id, NOW)

    clock.now = 5.0

    after = await cache.key_by_hash(hash_api_key(secret))
    assert after is not None
    assert not after.active


async def test_another_schemas_announcement_forgets_nothing() -> None:
    store, cache, _ = await shop()
    tenant, _ = await a_tenant(store)
    await cache.get_tenant(tenant.id)
    await store.merge_settings(tenant.id, {"reservation_minutes": 5})

    apply_change(cache, f"other:tenants:{tenant.id}", "mine")

    cached = await cache.get_tenant(tenant.id)
    assert cached is not None
    assert cached.settings.reservation_minutes == 30


async def test_an_unknown_key_is_remembered_until_a_key_with_its_hash_is_added_here() -> None:
    store, cache, _ = await shop()
    tenant, _ = await a_tenant(store)
    secret = f"ck_live_{uuid.uuid4().hex}"
    assert await cache.key_by_hash(hash_api_key(secret)) is None
    assert await cache.key_by_hash(hash_api_key(secret)) is None
    assert store.reads == 1

    key = ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        role=Role.STAFF,
        key_hash=hash_api_key(secret),
        created_at=NOW,
    )
    await cache.add_key(key)

    assert await cache.key_by_hash(hash_api_key(secret)) == key


async def test_the_cache_forgets_its_oldest_answer_when_full() -> None:
    store, clock = CountingTenants(), Seconds()
    cache = CachedTenants(store, ttl=30, clock=clock, max_entries=1)
    first, second = uuid.uuid4(), uuid.uuid4()
    await cache.get_tenant(first)
    await cache.get_tenant(second)
    await cache.get_tenant(first)

    assert store.reads == 3


async def test_a_read_that_began_before_a_change_is_not_kept() -> None:
    """A look-up in flight when this process changes the tenant may carry the old row;
    it answers its own request, but the cache must not keep it."""
    gate = asyncio.Event()

    class SlowTenants(MemoryTenants):
        async def get_tenant(self, tenant_id: UUID) -> Tenant | None:
            tenant = await super().get_tenant(tenant_id)  # the old row, read first
            await gate.wait()
            return tenant

    store = SlowTenants()
    cache = CachedTenants(store, ttl=30, clock=Seconds())
    tenant, _ = await a_tenant(store)
    reading = asyncio.create_task(cache.get_tenant(tenant.id))
    await asyncio.sleep(0)

    await cache.merge_settings(tenant.id, {"reservation_minutes": 5})
    gate.set()
    old = await reading
    new = await cache.get_tenant(tenant.id)

    assert old is not None
    assert old.settings.reservation_minutes == 30
    assert new is not None
    assert new.settings.reservation_minutes == 5


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["read", "change", "revoke", "tick"]), st.integers(0, 2)),
        max_size=30,
    )
)
def test_each_tenant_sees_only_its_own_settings_and_keys(steps: list[tuple[str, int]]) -> None:
    """Whatever reads, changes, revocations and clock ticks interleave, a tenant's cached
    settings and key are its own, and each read after a change made here sees it."""

    async def run() -> None:
        store, cache, clock = await shop(ttl=10.0)
        shops = [await a_tenant(store, f"t{i}") for i in range(3)]
        minutes = [30, 30, 30]
        revoked = [False, False, False]
        for action, i in steps:
            tenant, secret = shops[i]
            if action == "change":
                minutes[i] += 1
                await cache.merge_settings(tenant.id, {"reservation_minutes": minutes[i]})
            elif action == "revoke":
                key = await store.key_by_hash(hash_api_key(secret))
                assert key is not None
                await cache.revoke_key(key.id, NOW)
                revoked[i] = True
            elif action == "tick":
                clock.now += 4.0
            for j, (other, other_secret) in enumerate(shops):
                seen = await cache.get_tenant(other.id)
                assert seen is not None
                assert seen.id == other.id
                assert seen.settings.reservation_minutes == minutes[j]
                key = await cache.key_by_hash(hash_api_key(other_secret))
                assert key is not None
                assert key.tenant_id == other.id
                assert key.active is not revoked[j]

    asyncio.run(run())
