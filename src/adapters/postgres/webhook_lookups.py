"""The webhook lookups in PostgreSQL: gateway payments' tenants and seller accounts
(tables of migration 0007)."""

from __future__ import annotations

import asyncpg

from commerce_core.ports.webhooks import SellerAccount


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


# The flags change only for a newer state; a tenant is learnt from any state, older or not,
# so that the outcome does not depend on the order the events arrive in.
_NEWER = '(s.as_of, s.event_id COLLATE "C") < (EXCLUDED.as_of, EXCLUDED.event_id COLLATE "C")'
_RECORD_ACCOUNT = f"""
INSERT INTO seller_accounts AS s (gateway, account_id, tenant_id, charges_enabled,
    payouts_enabled, details_submitted, as_of, event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (gateway, account_id) DO UPDATE
SET tenant_id = COALESCE(s.tenant_id, EXCLUDED.tenant_id),
    charges_enabled = CASE WHEN {_NEWER} THEN EXCLUDED.charges_enabled ELSE s.charges_enabled END,
    payouts_enabled = CASE WHEN {_NEWER} THEN EXCLUDED.payouts_enabled ELSE s.payouts_enabled END,
    details_submitted = CASE WHEN {_NEWER}
        THEN EXCLUDED.details_submitted ELSE s.details_submitted END,
    as_of = CASE WHEN {_NEWER} THEN EXCLUDED.as_of ELSE s.as_of END,
    event_id = CASE WHEN {_NEWER} THEN EXCLUDED.event_id ELSE s.event_id END
WHERE {_NEWER} OR (s.tenant_id IS NULL AND EXCLUDED.tenant_id IS NOT NULL)
RETURNING event_id
"""


class PostgresSellerAccounts:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def record(self, account: SellerAccount) -> bool:
        event_id = await self._pool.fetchval(
            _RECORD_ACCOUNT,
            account.gateway,
            account.account_id,
            account.tenant_id,
            account.charges_enabled,
            account.payouts_enabled,
            account.details_submitted,
            account.as_of,
            account.event_id,
        )
        return bool(event_id == account.event_id)

    async def get(self, gateway: str, account_id: str) -> SellerAccount | None:
        row = await self._pool.fetchrow(
            "SELECT gateway, account_id, tenant_id, charges_enabled, payouts_enabled,"
            " details_submitted, as_of, event_id FROM seller_accounts"
            " WHERE gateway = $1 AND account_id = $2",
            gateway,
            account_id,
        )
        if row is None:
            return None
        return SellerAccount(**dict(row))
