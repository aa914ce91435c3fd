"""Tenants and API keys in memory, for tests and the memory-only configuration."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from commerce_core.tenancy.ports.tenants import (
    ApiKey,
    Tenant,
    TenantExistsError,
    TenantNotFoundError,
    TenantSettings,
)


class MemoryTenants:
    """Every method completes without awaiting, so each one is atomic."""

    def __init__(self) -> None:
        self._tenants: dict[UUID, Tenant] = {}
        self._keys: dict[str, ApiKey] = {}

    async def add_tenant(self, tenant: Tenant) -> None:
        if tenant.id in self._tenants or await self.tenant_by_slug(tenant.slug) is not None:
            raise TenantExistsError(tenant.slug)
        self._tenants[tenant.id] = tenant

    async def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        return self._tenants.get(tenant_id)

    async def tenant_by_slug(self, slug: str) -> Tenant | None:
        return next((t for t in self._tenants.values() if t.slug == slug), None)

    async def all_tenants(self) -> list[Tenant]:
        return sorted(self._tenants.values(), key=lambda t: t.created_at)

    async def update_settings(self, tenant_id: UUID, settings: TenantSettings) -> None:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise TenantNotFoundError(tenant_id)
        self._tenants[tenant_id] = msgspec.structs.replace(tenant, settings=settings)

    async def merge_settings(self, tenant_id: UUID, fields: Mapping[str, Any]) -> None:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise TenantNotFoundError(tenant_id)
        document = {**msgspec.to_builtins(tenant.settings), **msgspec.to_builtins(fields)}
        self._tenants[tenant_id] = msgspec.structs.replace(
            tenant, settings=msgspec.convert(document, TenantSettings)
        )

    async def write_settings(
        self, tenant_id: UUID, fields: Mapping[str, Any], version: int
    ) -> bool:
        tenant = self._tenants.get(tenant_id)
        if tenant is None:
            raise TenantNotFoundError(tenant_id)
        if tenant.settings_version >= version:
            return False
        document = {**msgspec.to_builtins(tenant.settings), **fields}
        self._tenants[tenant_id] = msgspec.structs.replace(
            tenant,
            settings=msgspec.convert(document, TenantSettings),
            settings_version=version,
        )
        return True

    async def add_key(self, key: ApiKey) -> None:
        if key.tenant_id not in self._tenants:
            raise TenantNotFoundError(key.tenant_id)
        self._keys[key.key_hash] = key

    async def key_by_hash(self, key_hash: str) -> ApiKey | None:
        return self._keys.get(key_hash)

    async def keys_of(self, tenant_id: UUID) -> list[ApiKey]:
        keys = [k for k in self._keys.values() if k.tenant_id == tenant_id]
        return sorted(keys, key=lambda k: k.created_at)

    async def revoke_key(self, key_id: UUID, at: datetime) -> bool:
        for key_hash, key in self._keys.items():
            if key.id == key_id and key.active:
                self._keys[key_hash] = msgspec.structs.replace(key, revoked_at=at)
                return True
        return False
