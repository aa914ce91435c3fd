"""The webhook ports in PostgreSQL (tables of migration 0007).

Every operation is one statement, so none holds a transaction open (events that
arrive together are stored by one, ``webhook_batches``; a batch's outcomes are written
by one, ``settle``): a claim is an ``UPDATE`` of the rows a ``SELECT ... FOR UPDATE SKIP
LOCKED`` picked, which gives each worker different rows and commits at once. What keeps
the event from other workers afterwards is its lease (``next_attempt_at`` moved past the
claim's end), not a lock held while it is processed: a transaction left open
for that long would hold back the event store's readers (see the event store
ADR). No NOTIFY either (it serializes commits): workers in the process that
received an event are woken in-process, others find it by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from adapters.postgres.webhook_batches import InsertBatcher, Row
from commerce_core.payments.ports.webhooks import (
    ReceivedWebhook,
    StoredWebhook,
    WebhookCounts,
    WebhookOutcome,
    WebhookStatus,
)

_COLUMNS = """id, seq, gateway, event_id, type, payload, tenant_id, status, attempts,
    received_at, next_attempt_at, claim, last_error, note, processed_at"""

_CLAIM = f"""
UPDATE webhook_events AS w
SET claim = $3, attempts = w.attempts + 1, next_attempt_at = $4
FROM (
    SELECT id FROM webhook_events AS e
    WHERE status IN ('received', 'failed') AND next_attempt_at <= $1
        -- one payment's events one at a time (ADR 0045): not while another of them is
        -- claimed, nor while an earlier one is due (it goes first)
        AND (ordering_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM webhook_events AS o
            WHERE o.ordering_key = e.ordering_key AND o.status IN ('received', 'failed')
                AND o.id <> e.id
                AND ((o.seq < e.seq AND o.next_attempt_at <= $1)
                    OR (o.claim IS NOT NULL AND o.next_attempt_at > $1))))
    ORDER BY next_attempt_at, seq
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) AS due
WHERE w.id = due.id
RETURNING {", ".join("w." + c.strip() for c in _COLUMNS.split(","))}
"""

_SETTLE = """
UPDATE webhook_events
SET status = $3, note = COALESCE($4, note), last_error = COALESCE($5, last_error),
    next_attempt_at = $6, processed_at = $7, tenant_id = COALESCE($8, tenant_id), claim = NULL
WHERE id = $1 AND claim = $2
"""

# a batch's outcomes in one statement, each only while its claim holds
_SETTLE_MANY = """
UPDATE webhook_events AS w
SET status = o.status, note = COALESCE(o.note, w.note),
    last_error = COALESCE(o.error, w.last_error), next_attempt_at = o.next_attempt_at,
    processed_at = o.processed_at,
    tenant_id = COALESCE(o.tenant_id, w.tenant_id), claim = NULL
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
            $7::timestamptz[], $8::text[])
    AS o(id, claim, status, note, error, next_attempt_at, processed_at, tenant_id)
WHERE w.id = o.id AND w.claim = o.claim
RETURNING w.id
"""

_RETRY = """
UPDATE webhook_events
SET status = 'received', attempts = 0, next_attempt_at = $2, claim = NULL, processed_at = NULL
WHERE id = $1 AND status IN ('failed', 'dead')
"""

_COUNTS = """
SELECT status, count(*) AS n, min(received_at) AS oldest
FROM webhook_events WHERE status <> 'processed' GROUP BY status
"""

_PURGE = """
DELETE FROM webhook_events WHERE seq IN (
    SELECT seq FROM webhook_events
    WHERE status = 'processed' AND received_at < $1
    ORDER BY seq LIMIT $2
)
"""


def _stored(row: asyncpg.Record) -> StoredWebhook:
    return StoredWebhook(
        id=row["id"],
        seq=row["seq"],
        gateway=row["gateway"],
        event_id=row["event_id"],
        type=row["type"],
        payload=bytes(row["payload"]),
        status=WebhookStatus(row["status"]),
        attempts=row["attempts"],
        received_at=row["received_at"],
        tenant_id=row["tenant_id"],
        next_attempt_at=row["next_attempt_at"],
        claim=row["claim"],
        last_error=row["last_error"],
        note=row["note"],
        processed_at=row["processed_at"],
    )


def _changed(status: str) -> bool:
    return status.rsplit(" ", 1)[-1] != "0"


class PostgresWebhookInbox:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._added = asyncio.Event()
        self._batcher = InsertBatcher(pool)

    async def add(self, webhook: ReceivedWebhook, *, id: UUID, at: datetime) -> bool:
        w = webhook
        added = await self._batcher.add(
            Row(id, w.gateway, w.event_id, w.type, w.payload, w.tenant_id, at, w.ordering_key)
        )
        if added:
            self._added.set()
        return added

    async def claim_due(
        self, *, at: datetime, limit: int, lease: float, claim: UUID
    ) -> list[StoredWebhook]:
        until = at + timedelta(seconds=lease)
        rows = await self._pool.fetch(_CLAIM, at, limit, claim, until)
        return sorted((_stored(r) for r in rows), key=lambda e: e.seq)

    async def mark_processed(
        self, id: UUID, claim: UUID, *, at: datetime, note: str, tenant_id: str | None = None
    ) -> bool:
        return await self._settle(id, claim, "processed", note, None, None, at, tenant_id)

    async def mark_failed(
        self,
        id: UUID,
        claim: UUID,
        *,
        error: str,
        next_attempt_at: datetime,
        tenant_id: str | None = None,
    ) -> bool:
        return await self._settle(
            id, claim, "failed", None, error, next_attempt_at, None, tenant_id
        )

    async def mark_dead(
        self, id: UUID, claim: UUID, *, at: datetime, error: str, tenant_id: str | None = None
    ) -> bool:
        return await self._settle(id, claim, "dead", None, error, None, at, tenant_id)

    async def _settle(
        self,
        id: UUID,
        claim: UUID,
        status: str,
        note: str | None,
        error: str | None,
        next_attempt_at: datetime | None,
        processed_at: datetime | None,
        tenant_id: str | None,
    ) -> bool:
        result = await self._pool.execute(
            _SETTLE, id, claim, status, note, error, next_attempt_at, processed_at, tenant_id
        )
        return _changed(result)

    async def settle(self, outcomes: Sequence[WebhookOutcome]) -> set[UUID]:
        if not outcomes:
            return set()
        columns = [
            [o.id for o in outcomes],
            [o.claim for o in outcomes],
            [str(o.status) for o in outcomes],
            [o.note for o in outcomes],
            [o.error for o in outcomes],
            [o.next_attempt_at for o in outcomes],
            [o.processed_at for o in outcomes],
            [o.tenant_id for o in outcomes],
        ]
        return {row["id"] for row in await self._pool.fetch(_SETTLE_MANY, *columns)}

    async def get(self, id: UUID) -> StoredWebhook | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM webhook_events WHERE id = $1", id)
        return None if row is None else _stored(row)

    async def find(
        self,
        *,
        status: WebhookStatus | None = None,
        tenant_id: str | None = None,
        tenantless: bool = False,
        before: int | None = None,
        limit: int = 50,
    ) -> list[StoredWebhook]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM webhook_events"
            " WHERE ($1::text IS NULL OR status = $1)"
            " AND ($2::text IS NULL OR tenant_id = $2)"
            " AND ($3::bigint IS NULL OR seq < $3)"
            " AND (NOT $5 OR tenant_id IS NULL)"
            " ORDER BY seq DESC LIMIT $4",
            None if status is None else str(status),
            tenant_id,
            before,
            limit,
            tenantless,
        )
        return [_stored(r) for r in rows]

    async def retry(self, id: UUID, *, at: datetime) -> bool:
        retried = _changed(await self._pool.execute(_RETRY, id, at))
        if retried:
            self._added.set()
        return retried

    async def counts(self) -> WebhookCounts:
        rows = {r["status"]: r for r in await self._pool.fetch(_COUNTS)}
        pending = [rows[s]["oldest"] for s in ("received", "failed") if s in rows]
        return WebhookCounts(
            received=rows["received"]["n"] if "received" in rows else 0,
            failed=rows["failed"]["n"] if "failed" in rows else 0,
            dead=rows["dead"]["n"] if "dead" in rows else 0,
            oldest_pending_at=min(pending, default=None),
        )

    async def purge_processed(self, *, before: datetime, limit: int = 10_000) -> int:
        status = await self._pool.execute(_PURGE, before, limit)
        return int(status.rsplit(" ", 1)[-1])

    async def wait_for_new(self, max_wait: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._added.wait(), max_wait)
        self._added.clear()
