"""Idempotency records in memory."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from commerce_core.shared.ports.idempotency import IdempotencyRecord, StoredResponse


class MemoryIdempotencyStore:
    """Every method completes without awaiting, so each one is atomic."""

    def __init__(self) -> None:
        self._records: dict[tuple[UUID, str], IdempotencyRecord] = {}

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
        existing = self._records.get((tenant_id, key))
        if existing is not None and not _claimable(existing, at):
            return existing
        self._records[tenant_id, key] = IdempotencyRecord(
            tenant_id=tenant_id,
            key=key,
            request_hash=request_hash,
            token=token,
            created_at=at,
            expires_at=at + ttl,
            locked_until=at + lease,
        )
        return None

    async def get(self, tenant_id: UUID, key: str, *, at: datetime) -> IdempotencyRecord | None:
        record = self._records.get((tenant_id, key))
        return record if record is not None and record.expires_at > at else None

    async def complete(
        self, tenant_id: UUID, key: str, *, token: UUID, response: StoredResponse
    ) -> bool:
        record = self._records.get((tenant_id, key))
        if record is None or record.token != token or not record.in_progress:
            return False
        self._records[tenant_id, key] = msgspec.structs.replace(record, response=response)
        return True

    async def release(self, tenant_id: UUID, key: str, *, token: UUID) -> bool:
        record = self._records.get((tenant_id, key))
        if record is None or record.token != token or not record.in_progress:
            return False
        del self._records[tenant_id, key]
        return True

    async def purge_expired(self, at: datetime) -> int:
        expired = [k for k, r in self._records.items() if r.expires_at <= at]
        for k in expired:
            del self._records[k]
        return len(expired)


def _claimable(record: IdempotencyRecord, at: datetime) -> bool:
    return record.expires_at <= at or (record.in_progress and record.locked_until <= at)
