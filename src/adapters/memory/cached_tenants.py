"""Tenants and API keys cached in this process, in front of the real store (ADR 0050).

Every authenticated request needs its key and its tenant's settings; reading both from
the database each time was a round trip (or two) per request. ``CachedTenants`` keeps
what ``get_tenant`` and ``key_by_hash`` answered (unknown ids and keys too, so guessing
does not reach the database each time) for at most ``ttl`` seconds, and forgets an
entry:

- at once when this process changes it through this object (settings written, key
  revoked or added): the next request here sees the change;
- when another process changed it and the database told us (``forget_tenant`` /
  ``forget_key``, called by the PostgreSQL listener on ``commerce_tenancy``);
- at the latest ``ttl`` seconds after it was read, whatever happened (a lost
  notification, a listener reconnecting).

A read that began before a forget is not kept (it may have seen the old row): each
forget moves ``generation`` on, and an answer is cached only if it did not move while
the read ran. Entries are per tenant id and per key hash: one tenant's entry never
answers for another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from commerce_core.tenancy.ports.tenants import ApiKey, Tenant, Tenants, TenantSettings

K = TypeVar("K")
V = TypeVar("V")


class CachedTenants:
    """A ``Tenants`` whose tenant and key look-ups are cached (see the module)."""

    def __init__(
        self,
        inner: Tenants,
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = 10_000,
    ) -> None:
        self._inner = inner
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._tenants: dict[UUID, tuple[float, Tenant | None]] = {}
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}
        self.generation = 0

    # --- cached reads ----------------------------------------------------------------

    async def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        now = self._clock()
        cached = self._tenants.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self.generation
        tenant = await self._inner.get_tenant(tenant_id)
        self._keep(self._tenants, tenant_id, (now + self._ttl, tenant), generation)
        return tenant

    async def key_by_hash(self, key_hash: str) -> ApiKey | None:
        now = self._clock()
        cached = self._keys.get(key_hash)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self.generation
        key = await self._inner.key_by_hash(key_hash)
        self._keep(self._keys, key_hash, (now + self._ttl, key), generation)
        return key

    def _keep(
        self, cache: dict[K, tuple[float, V]], id_: K, entry: tuple[float, V], gen: int
    ) -> None:
        """Keeps ``entry`` (expiry, answer) unless caching is off or something was
        forgotten while it was read (``gen`` is the generation the read began in)."""
        if self._ttl <= 0 or gen != self.generation:
            return
        cache.pop(id_, None)
        if len(cache) >= self._max_entries:
            del cache[next(iter(cache))]  # the oldest answer
        cache[id_] = entry

    # --- forgetting ------------------------------------------------------------------

    def forget_tenant(self, tenant_id: UUID) -> None:
        self.generation += 1
        self._tenants.pop(tenant_id, None)

    def forget_key(self, key_hash: str) -> None:
        self.generation += 1
        self._keys.pop(key_hash, None)

    def forget_key_id(self, key_id: UUID) -> None:
        self.generation += 1
        for key_hash, (_, key) in list(self._keys.items()):
            if key is not None and key.id == key_id:
                del self._keys[key_hash]

    def forget_all(self) -> None:
        self.generation += 1
        self._tenants.clear()
        self._keys.clear()

    # --- writes: through to the store, then forgotten here ---------------------------

    async def add_tenant(self, tenant: Tenant) -> None:
        try:
            await self._inner.add_tenant(tenant)
        finally:
            self.forget_tenant(tenant.id)

    async def update_settings(self, tenant_id: UUID, settings: TenantSettings) -> None:
        try:
            await self._inner.update_settings(tenant_id, settings)
        finally:
            self.forget_tenant(tenant_id)

    async def merge_settings(self, tenant_id: UUID, fields: Mapping[str, Any]) -> None:
        try:
            await self._inner.merge_settings(tenant_id, fields)
        finally:
            self.forget_tenant(tenant_id)

    async def write_settings(
        self, tenant_id: UUID, fields: Mapping[str, Any], version: int
    ) -> bool:
        try:
            return await self._inner.write_settings(tenant_id, fields, version)
        finally:
            self.forget_tenant(tenant_id)

    async def add_key(self, key: ApiKey) -> None:
        try:
            await self._inner.add_key(key)
        finally:
            self.forget_key(key.key_hash)

    async def revoke_key(self, key_id: UUID, at: datetime) -> bool:
        try:
            return await self._inner.revoke_key(key_id, at)
        finally:
            self.forget_key_id(key_id)

    # --- not cached --------------------------------------------------------------------

    async def tenant_by_slug(self, slug: str) -> Tenant | None:
        return await self._inner.tenant_by_slug(slug)

    async def all_tenants(self) -> list[Tenant]:
        return await self._inner.all_tenants()

    async def keys_of(self, tenant_id: UUID) -> list[ApiKey]:
        return await self._inner.keys_of(tenant_id)
