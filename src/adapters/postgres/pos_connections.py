"""Tenants' POS connections and their pull state in PostgreSQL (migrations 0027, 0030,
0032)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.crypto.pos_secrets import PosSecretBox
from commerce_core.channels.connections import (
    Oversell,
    PosConnection,
    PosDetails,
    PosName,
    PosSecrets,
    Resolution,
    SyncStatus,
)
from commerce_core.eventstore.records import Position

_UPSERT = """
INSERT INTO pos_connections
    (tenant_id, pos, enabled, configured_at, details, key_id, sealed_secrets, cursor,
     last_synced_at, failures, next_attempt_at, last_error, push_since,
     awaiting_webhook_auth)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, 0, NULL, NULL, $10, $11)
ON CONFLICT (tenant_id, pos) DO UPDATE SET
    enabled = EXCLUDED.enabled,
    configured_at = EXCLUDED.configured_at,
    details = EXCLUDED.details,
    key_id = EXCLUDED.key_id,
    sealed_secrets = EXCLUDED.sealed_secrets,
    failures = 0,
    next_attempt_at = NULL,
    counts_digest = NULL,
    awaiting_webhook_auth = EXCLUDED.awaiting_webhook_auth
"""
_SELECT = """
SELECT c.pos, c.enabled, c.configured_at, c.details::text AS details, c.key_id,
       c.sealed_secrets, c.cursor, c.last_synced_at, c.last_error, c.failures,
       c.next_attempt_at, c.counts_digest, c.push_tx, c.push_global, c.push_since,
       c.verification_code,
       (SELECT count(*) FROM pos_oversells o
         WHERE o.tenant_id = c.tenant_id AND o.pos = c.pos AND o.resolved_at IS NULL)
         AS oversells
FROM pos_connections c
WHERE c.tenant_id = $1
"""


class PostgresPosConnections:
    """Only sealed secrets reach the database; ``master_key`` never leaves the process."""

    def __init__(self, pool: asyncpg.Pool, master_key: bytes) -> None:
        self._pool = pool
        self._secrets = PosSecretBox(master_key)

    async def put(self, connection: PosConnection) -> None:
        sealed = self._secrets.seal(connection.tenant_id, connection.pos, connection.secrets)
        await self._pool.execute(
            _UPSERT,
            connection.tenant_id,
            str(connection.pos),
            connection.enabled,
            connection.configured_at,
            msgspec.json.encode(connection.details).decode(),
            sealed.key_id,
            sealed.sealed,
            connection.sync.cursor,
            connection.sync.last_synced_at,
            connection.sync.push_since,
            connection.awaits_webhook_auth(),
        )

    async def get(self, tenant_id: UUID, pos: str) -> PosConnection | None:
        row = await self._pool.fetchrow(_SELECT + " AND c.pos = $2", tenant_id, pos)
        return None if row is None else self._connection(tenant_id, row)

    async def of_tenant(self, tenant_id: UUID) -> list[PosConnection]:
        rows = await self._pool.fetch(_SELECT + " ORDER BY c.pos", tenant_id)
        return [self._connection(tenant_id, row) for row in rows]

    async def enabled(self) -> list[tuple[UUID, PosName]]:
        rows = await self._pool.fetch(
            "SELECT tenant_id, pos FROM pos_connections WHERE enabled ORDER BY tenant_id, pos"
        )
        return [(row["tenant_id"], PosName(row["pos"])) for row in rows]

    async def with_merchant(self, pos: str, merchant_id: str) -> list[PosConnection]:
        tenants = await self._pool.fetch(
            "SELECT tenant_id FROM pos_connections WHERE pos = $1 AND enabled"
            " AND details->>'merchant_id' = $2 ORDER BY configured_at LIMIT 10",
            pos,
            merchant_id,
        )
        found = [await self.get(row["tenant_id"], pos) for row in tenants]
        return [connection for connection in found if connection is not None]

    async def applied(self, tenant_id: UUID, pos: str, cursor: str, at: datetime) -> None:
        await self._pool.execute(
            "UPDATE pos_connections SET cursor = $3, last_synced_at = $4, failures = 0,"
            " next_attempt_at = NULL, last_error = NULL WHERE tenant_id = $1 AND pos = $2",
            tenant_id,
            pos,
            cursor,
            at,
        )

    async def failed(
        self, tenant_id: UUID, pos: str, error: str, at: datetime, retry_at: datetime
    ) -> None:
        await self._pool.execute(
            "UPDATE pos_connections SET failures = failures + 1, last_error = $3,"
            " next_attempt_at = $4 WHERE tenant_id = $1 AND pos = $2",
            tenant_id,
            pos,
            error[:500],
            retry_at,
        )

    async def record_oversell(self, tenant_id: UUID, pos: str, oversell: Oversell) -> bool:
        status = await self._pool.execute(
            "INSERT INTO pos_oversells"
            " (tenant_id, pos, external_id, location_id, detail, recorded_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            tenant_id,
            pos,
            oversell.external_id,
            oversell.location_id,
            oversell.detail,
            oversell.recorded_at,
        )
        return str(status).endswith(" 1")

    async def counts_pushed(self, tenant_id: UUID, pos: str, digest: str) -> None:
        await self._pool.execute(
            "UPDATE pos_connections SET counts_digest = $3 WHERE tenant_id = $1 AND pos = $2",
            tenant_id,
            pos,
            digest,
        )

    async def pushed_through(self, tenant_id: UUID, pos: str, position: Position) -> None:
        await self._pool.execute(
            "UPDATE pos_connections SET push_tx = $3, push_global = $4"
            " WHERE tenant_id = $1 AND pos = $2",
            tenant_id,
            pos,
            position.tx_id,
            position.global_position,
        )

    async def oversells_of(self, tenant_id: UUID, pos: str, open_only: bool) -> list[Oversell]:
        rows = await self._pool.fetch(
            "SELECT * FROM pos_oversells WHERE tenant_id = $1 AND pos = $2"
            " AND (NOT $3 OR resolved_at IS NULL) ORDER BY recorded_at DESC, external_id"
            " LIMIT 500",
            tenant_id,
            pos,
            open_only,
        )
        return [_oversell(row) for row in rows]

    async def resolve_oversell(
        self, tenant_id: UUID, pos: str, external_id: str, resolution: Resolution
    ) -> Oversell | None:
        # Only an open one is changed: a second resolution keeps the first.
        row = await self._pool.fetchrow(
            "WITH changed AS (UPDATE pos_oversells SET resolved_at = $4, resolved_by = $5,"
            " resolution_note = $6 WHERE tenant_id = $1 AND pos = $2 AND external_id = $3"
            " AND resolved_at IS NULL RETURNING *)"
            " SELECT * FROM changed UNION ALL SELECT * FROM pos_oversells"
            " WHERE tenant_id = $1 AND pos = $2 AND external_id = $3"
            " AND NOT EXISTS (SELECT 1 FROM changed)",
            tenant_id,
            pos,
            external_id,
            resolution.at,
            resolution.by,
            resolution.note,
        )
        return None if row is None else _oversell(row)

    async def verification_requested(self, pos: str, code: str) -> int:
        status = await self._pool.execute(
            "UPDATE pos_connections SET verification_code = $2"
            " WHERE pos = $1 AND enabled AND awaiting_webhook_auth",
            pos,
            code,
        )
        return int(str(status).rsplit(" ", 1)[-1])

    async def tokens_refreshed(self, tenant_id: UUID, pos: str, secrets: PosSecrets) -> None:
        sealed = self._secrets.seal(tenant_id, pos, secrets)
        await self._pool.execute(
            "UPDATE pos_connections SET key_id = $3, sealed_secrets = $4,"
            " awaiting_webhook_auth = awaiting_webhook_auth AND $5"
            " WHERE tenant_id = $1 AND pos = $2",
            tenant_id,
            pos,
            sealed.key_id,
            sealed.sealed,
            not secrets.signature_key,
        )

    def _connection(self, tenant_id: UUID, row: asyncpg.Record) -> PosConnection:
        pos = PosName(row["pos"])
        sealed = SealedCredentials(row["key_id"], row["sealed_secrets"])
        return PosConnection(
            tenant_id=tenant_id,
            pos=pos,
            enabled=row["enabled"],
            configured_at=row["configured_at"],
            details=msgspec.json.decode(row["details"], type=PosDetails),
            secrets=self._secrets.open(tenant_id, pos, sealed),
            verification_code=row["verification_code"],
            sync=SyncStatus(
                cursor=row["cursor"],
                last_synced_at=row["last_synced_at"],
                last_error=row["last_error"],
                failures=row["failures"],
                next_attempt_at=row["next_attempt_at"],
                oversells=row["oversells"],
                counts_digest=row["counts_digest"],
                push_position=None
                if row["push_tx"] is None
                else Position(row["push_tx"], row["push_global"]),
                push_since=row["push_since"],
            ),
        )


def _oversell(row: asyncpg.Record) -> Oversell:
    resolved = row["resolved_at"]
    return Oversell(
        external_id=row["external_id"],
        location_id=row["location_id"],
        detail=row["detail"],
        recorded_at=row["recorded_at"],
        resolution=None
        if resolved is None
        else Resolution(note=row["resolution_note"], by=row["resolved_by"], at=resolved),
    )
