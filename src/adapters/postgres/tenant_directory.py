"""Every tenant, from the ``tenants`` table (migration 0003)."""

from __future__ import annotations

import asyncpg
import msgspec

from commerce_core.tenancy.ports.tenants import Tenant, TenantSettings

_settings_decoder = msgspec.json.Decoder(TenantSettings)


class PostgresTenantDirectory:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def all_tenants(self) -> list[Tenant]:
        rows = await self._pool.fetch(
            "SELECT id, slug, created_at, settings FROM tenants ORDER BY created_at, slug"
        )
        return [
            Tenant(
                id=row["id"],
                slug=row["slug"],
                created_at=row["created_at"],
                settings=_settings_decoder.decode(row["settings"]),
            )
            for row in rows
        ]
