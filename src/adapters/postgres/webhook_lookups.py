"""The webhook lookup in PostgreSQL: gateway payments' tenants (table of migration 0007)."""

from __future__ import annotations

import asyncpg


class PostgresPaymentTenants:
    """Remembers (in this process) the last ``cache_size`` payments it stored, so that the
    many events of one payment write its tenant once."""

    def __init__(self, pool: asyncpg.Pool, cache_size: int = 10_000) -> None:
        self._pool = pool
        self._stored: dict[tuple[str, str], None] = {}  # insertion-ordered: oldest first
        self._cache_size = cache_size

    async def remember(self, gateway: str, gateway_payment_id: str, tenant_id: str) -> None:
        key = (gateway, gateway_payment_id)
        if key in self._stored:
            return
        await self._pool.execute(
            "INSERT INTO gateway_payment_tenants (gateway, gateway_payment_id, tenant_id)"
            " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            gateway,
            gateway_payment_id,
            tenant_id,
        )
        if len(self._stored) >= self._cache_size:
            del self._stored[next(iter(self._stored))]
        self._stored[key] = None

    async def tenant_of(self, gateway: str, gateway_payment_id: str) -> str | None:
        tenant: str | None = await self._pool.fetchval(
            "SELECT tenant_id FROM gateway_payment_tenants"
            " WHERE gateway = $1 AND gateway_payment_id = $2",
            gateway,
            gateway_payment_id,
        )
        return tenant
