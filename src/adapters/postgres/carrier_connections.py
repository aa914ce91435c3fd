"""Tenants' carrier connections in PostgreSQL (table ``carrier_connections``, migration 0020)."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from adapters.crypto.carrier_secrets import CarrierSecretBox
from adapters.crypto.gateway_secrets import SealedCredentials
from commerce_core.fulfilment.connections import (
    CarrierConnection,
    CarrierDetails,
    CarrierName,
    CarrierSummary,
)

_UPSERT = """
INSERT INTO carrier_connections
    (tenant_id, carrier, enabled, configured_at, details, key_id, sealed_secrets)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)
ON CONFLICT (tenant_id, carrier) DO UPDATE SET
    enabled = EXCLUDED.enabled,
    configured_at = EXCLUDED.configured_at,
    details = EXCLUDED.details,
    key_id = EXCLUDED.key_id,
    sealed_secrets = EXCLUDED.sealed_secrets
"""
_SUMMARY = "carrier, enabled, configured_at, details::text AS details"


def _summary(row: asyncpg.Record) -> CarrierSummary:
    return CarrierSummary(
        carrier=CarrierName(row["carrier"]),
        enabled=row["enabled"],
        configured_at=row["configured_at"],
        details=msgspec.json.decode(row["details"], type=CarrierDetails),
    )


class PostgresCarrierConnections:
    """Only sealed secrets reach the database; ``master_key`` never leaves the process."""

    def __init__(self, pool: asyncpg.Pool, master_key: bytes) -> None:
        self._pool = pool
        self._secrets = CarrierSecretBox(master_key)

    async def put(self, connection: CarrierConnection) -> None:
        sealed = self._secrets.seal(connection.tenant_id, connection.carrier, connection.secrets)
        await self._pool.execute(
            _UPSERT,
            connection.tenant_id,
            str(connection.carrier),
            connection.enabled,
            connection.configured_at,
            msgspec.json.encode(connection.details).decode(),
            sealed.key_id,
            sealed.sealed,
        )

    async def get(self, tenant_id: UUID, carrier: str) -> CarrierConnection | None:
        row = await self._pool.fetchrow(
            f"SELECT {_SUMMARY}, key_id, sealed_secrets FROM carrier_connections"
            " WHERE tenant_id = $1 AND carrier = $2",
            tenant_id,
            carrier,
        )
        if row is None:
            return None
        summary = _summary(row)
        sealed = SealedCredentials(row["key_id"], row["sealed_secrets"])
        return CarrierConnection(
            tenant_id=tenant_id,
            carrier=summary.carrier,
            enabled=summary.enabled,
            configured_at=summary.configured_at,
            details=summary.details,
            secrets=self._secrets.open(tenant_id, carrier, sealed),
        )

    async def summaries(self, tenant_id: UUID) -> list[CarrierSummary]:
        rows = await self._pool.fetch(
            f"SELECT {_SUMMARY} FROM carrier_connections WHERE tenant_id = $1 ORDER BY carrier",
            tenant_id,
        )
        return [_summary(row) for row in rows]
