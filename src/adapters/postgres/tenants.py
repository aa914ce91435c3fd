"""Tenants and API keys in PostgreSQL (tables ``tenants`` and ``api_keys``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from commerce_core.tenancy.ports.tenants import (
    ApiKey,
    Grant,
    Role,
    Tenant,
    TenantExistsError,
    TenantNotFoundError,
    TenantSettings,
)

_TENANT_COLUMNS = "id, slug, created_at, settings, settings_version"
_KEY_COLUMNS = "id, tenant_id, role, key_hash, created_at, revoked_at, grants"
_settings_decoder = msgspec.json.Decoder(TenantSettings)


def _tenant(row: asyncpg.Record) -> Tenant:
    return Tenant(
        id=row["id"],
        slug=row["slug"],
        created_at=row["created_at"],
        settings=_settings_decoder.decode(row["settings"]),
        settings_version=row["settings_version"],
    )


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        id=row["id"],
        tenant_id=row["tenant_id"],
        role=Role(row["role"]),
        key_hash=row["key_hash"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        grants=frozenset(Grant(g) for g in row["grants"]),
    )


class PostgresTenants:
    """Expects a pool made by ``adapters.postgres.connection.create_pool`` (raw jsonb codec)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add_tenant(self, tenant: Tenant) -> None:
        try:
            await self._pool.execute(
                "INSERT INTO tenants (id, slug, created_at, settings) VALUES ($1, $2, $3, $4)",
                tenant.id,
                tenant.slug,
                tenant.created_at,
                msgspec.json.encode(tenant.settings),
            )
        except asyncpg.UniqueViolationError as error:
            raise TenantExistsError(tenant.slug) from error

    async def get_tenant(self, tenant_id: UUID) -> Tenant | None:
        row = await self._pool.fetchrow(
            f"SELECT {_TENANT_COLUMNS} FROM tenants WHERE id = $1", tenant_id
        )
        return None if row is None else _tenant(row)

    async def tenant_by_slug(self, slug: str) -> Tenant | None:
        row = await self._pool.fetchrow(
            f"SELECT {_TENANT_COLUMNS} FROM tenants WHERE slug = $1", slug
        )
        return None if row is None else _tenant(row)

    async def all_tenants(self) -> list[Tenant]:
        rows = await self._pool.fetch(
            f"SELECT {_TENANT_COLUMNS} FROM tenants ORDER BY created_at, id"
        )
        return [_tenant(row) for row in rows]

    async def update_settings(self, tenant_id: UUID, settings: TenantSettings) -> None:
        status = await self._pool.execute(
            "UPDATE tenants SET settings = $2 WHERE id = $1",
            tenant_id,
            msgspec.json.encode(settings),
        )
        if _count(status) == 0:
            raise TenantNotFoundError(tenant_id)

    async def merge_settings(self, tenant_id: UUID, fields: Mapping[str, Any]) -> None:
        status = await self._pool.execute(
            "UPDATE tenants SET settings = settings || $2::jsonb WHERE id = $1",
            tenant_id,
            msgspec.json.encode(dict(fields)),
        )
        if _count(status) == 0:
            raise TenantNotFoundError(tenant_id)

    async def write_settings(
        self, tenant_id: UUID, fields: Mapping[str, Any], version: int
    ) -> bool:
        # one statement: the merge and the version check see the same row, under its lock
        row = await self._pool.fetchrow(
            "UPDATE tenants SET settings = settings || $2::jsonb, settings_version = $3"
            " WHERE id = $1 AND settings_version < $3 RETURNING true",
            tenant_id,
            msgspec.json.encode(dict(fields)),
            version,
        )
        if row is not None:
            return True
        if await self._pool.fetchval("SELECT 1 FROM tenants WHERE id = $1", tenant_id) is None:
            raise TenantNotFoundError(tenant_id)
        return False

    async def add_key(self, key: ApiKey) -> None:
        try:
            await self._pool.execute(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                key.id,
                key.tenant_id,
                key.role.value,
                key.key_hash,
                key.created_at,
                key.revoked_at,
                sorted(g.value for g in key.grants),
            )
        except asyncpg.ForeignKeyViolationError as error:
            raise TenantNotFoundError(key.tenant_id) from error

    async def key_by_hash(self, key_hash: str) -> ApiKey | None:
        row = await self._pool.fetchrow(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1", key_hash
        )
        return None if row is None else _key(row)

    async def keys_of(self, tenant_id: UUID) -> list[ApiKey]:
        rows = await self._pool.fetch(
            f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id",
            tenant_id,
        )
        return [_key(row) for row in rows]

    async def revoke_key(self, key_id: UUID, at: datetime) -> bool:
        status = await self._pool.execute(
            "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", key_id, at
        )
        return _count(status) > 0


def _count(status: str) -> int:
    """The row count of a command tag such as ``UPDATE 1``."""
    return int(status.rsplit(" ", 1)[-1])
