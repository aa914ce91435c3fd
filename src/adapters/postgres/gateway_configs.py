"""Tenants' gateway configurations in PostgreSQL (table ``gateway_configs``, migration 0008)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from adapters.crypto.gateway_secrets import GatewaySecrets, SealedCredentials
from commerce_core.payments.ports.gateway_configs import GatewayConfig, GatewaySummary

_UPSERT = """
INSERT INTO gateway_configs
    (tenant_id, gateway, enabled, publishable_key, configured_at, key_id, sealed_credentials)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, gateway) DO UPDATE SET
    enabled = EXCLUDED.enabled,
    publishable_key = EXCLUDED.publishable_key,
    configured_at = EXCLUDED.configured_at,
    key_id = EXCLUDED.key_id,
    sealed_credentials = EXCLUDED.sealed_credentials
"""
_SUMMARY = "gateway, enabled, publishable_key, configured_at"


def _summary(row: asyncpg.Record) -> GatewaySummary:
    return GatewaySummary(
        gateway=row["gateway"],
        enabled=row["enabled"],
        publishable_key=row["publishable_key"],
        configured_at=row["configured_at"],
    )


class PostgresGatewayConfigs:
    """Only sealed credentials reach the database; ``master_key`` never leaves the process."""

    def __init__(self, pool: asyncpg.Pool, master_key: bytes) -> None:
        self._pool = pool
        self._secrets = GatewaySecrets(master_key)

    async def put(self, config: GatewayConfig) -> None:
        sealed = self._secrets.seal(config.tenant_id, config.gateway, config.credentials)
        await self._pool.execute(
            _UPSERT,
            config.tenant_id,
            config.gateway,
            config.enabled,
            config.publishable_key,
            config.configured_at,
            sealed.key_id,
            sealed.sealed,
        )

    async def get(self, tenant_id: UUID, gateway: str) -> GatewayConfig | None:
        row = await self._pool.fetchrow(
            f"SELECT {_SUMMARY}, key_id, sealed_credentials FROM gateway_configs"
            " WHERE tenant_id = $1 AND gateway = $2",
            tenant_id,
            gateway,
        )
        if row is None:
            return None
        sealed = SealedCredentials(row["key_id"], row["sealed_credentials"])
        summary = _summary(row)
        return GatewayConfig(
            tenant_id=tenant_id,
            gateway=gateway,
            enabled=summary.enabled,
            configured_at=summary.configured_at,
            publishable_key=summary.publishable_key,
            credentials=self._secrets.open(tenant_id, gateway, sealed),
        )

    async def summaries(self, tenant_id: UUID) -> list[GatewaySummary]:
        rows = await self._pool.fetch(
            f"SELECT {_SUMMARY} FROM gateway_configs WHERE tenant_id = $1 ORDER BY gateway",
            tenant_id,
        )
        return [_summary(row) for row in rows]
