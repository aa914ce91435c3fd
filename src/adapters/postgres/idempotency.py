"""Idempotency records in PostgreSQL (table ``idempotency_keys``).

A claim is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``: it inserts a free
key, takes over an expired record or an abandoned claim past its lease, and
otherwise leaves the existing row alone (returning nothing), so concurrent
claims on one key serialize on its unique index and exactly one wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from commerce_core.shared.ports.idempotency import IdempotencyRecord, StoredResponse

_CLAIM = """
INSERT INTO idempotency_keys AS r
    (tenant_id, key, request_hash, token, created_at, expires_at, locked_until)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (tenant_id, key) DO UPDATE
SET request_hash = EXCLUDED.request_hash, token = EXCLUDED.token,
    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
    locked_until = EXCLUDED.locked_until, status = NULL, body = NULL, content_type = NULL,
    sealed_for = NULL
WHERE r.expires_at <= EXCLUDED.created_at
   OR (r.status IS NULL AND r.locked_until <= EXCLUDED.created_at)
RETURNING r.token
"""

_SELECT = """
SELECT tenant_id, key, request_hash, token, created_at, expires_at, locked_until,
       status, body, content_type, sealed_for
FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 AND expires_at > $3
"""

# a claim that loses to a row which is then released before we read it tries again
_CLAIM_ATTEMPTS = 5


def _record(row: asyncpg.Record) -> IdempotencyRecord:
    status = row["status"]
    response = (
        None
        if status is None
        else StoredResponse(status, bytes(row["body"]), row["content_type"], row["sealed_for"])
    )
    return IdempotencyRecord(
        tenant_id=row["tenant_id"],
        key=row["key"],
        request_hash=row["request_hash"],
        token=row["token"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        locked_until=row["locked_until"],
        response=response,
    )


class PostgresIdempotencyStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def claim(
        self,
        tenant_id: UUID,
        key: str,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        ttl: timedelta,
        lease: timedelta,
    ) -> IdempotencyRecord | None:
        for _ in range(_CLAIM_ATTEMPTS):
            won = await self._pool.fetchval(
                _CLAIM, tenant_id, key, request_hash, token, at, at + ttl, at + lease
            )
            if won is not None:
                return None
            existing = await self.get(tenant_id, key, at=at)
            if existing is not None:
                return existing
        raise RuntimeError(f"could not claim idempotency key {key!r}: it keeps changing")

    async def get(self, tenant_id: UUID, key: str, *, at: datetime) -> IdempotencyRecord | None:
        row = await self._pool.fetchrow(_SELECT, tenant_id, key, at)
        return None if row is None else _record(row)

    async def complete(
        self, tenant_id: UUID, key: str, *, token: UUID, response: StoredResponse
    ) -> bool:
        status = await self._pool.execute(
            "UPDATE idempotency_keys SET status = $4, body = $5, content_type = $6,"
            " sealed_for = $7"
            " WHERE tenant_id = $1 AND key = $2 AND token = $3 AND status IS NULL",
            tenant_id,
            key,
            token,
            response.status,
            response.body,
            response.content_type,
            response.sealed_for,
        )
        return _count(status) > 0

    async def release(self, tenant_id: UUID, key: str, *, token: UUID) -> bool:
        status = await self._pool.execute(
            "DELETE FROM idempotency_keys"
            " WHERE tenant_id = $1 AND key = $2 AND token = $3 AND status IS NULL",
            tenant_id,
            key,
            token,
        )
        return _count(status) > 0

    async def purge_expired(self, at: datetime) -> int:
        status = await self._pool.execute("DELETE FROM idempotency_keys WHERE expires_at <= $1", at)
        return _count(status)


def _count(status: str) -> int:
    """The row count of a command tag such as ``DELETE 3``."""
    return int(status.rsplit(" ", 1)[-1])
