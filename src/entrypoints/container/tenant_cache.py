"""The HTTP processes' cache of tenants and API keys, and its listener (ADR 0050)."""

from __future__ import annotations

import asyncpg

from adapters.memory.cached_tenants import CachedTenants
from adapters.postgres.tenancy_changes import TenancyListener
from commerce_core.tenancy.ports.tenants import Tenants
from entrypoints.container.database import connector
from entrypoints.settings import Settings


def cached_tenants(settings: Settings, tenants: Tenants) -> CachedTenants:
    return CachedTenants(tenants, ttl=settings.api_key_cache_ttl)


def tenancy_listener(
    settings: Settings, pool: asyncpg.Pool | None, cache: CachedTenants
) -> TenancyListener | None:
    """None without PostgreSQL (one process holds everything) or without a cache."""
    if pool is None or settings.api_key_cache_ttl <= 0:
        return None
    return TenancyListener(connector(settings), cache, settings.database_schema)
