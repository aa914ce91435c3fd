"""Notifications and template overrides in PostgreSQL (migration 0028)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg
import msgspec

from commerce_core.eventstore import START, Position
from commerce_core.notifications.notification import (
    Kind,
    Notification,
    NotificationChannel,
    NotificationStatus,
    Outcome,
)
from commerce_core.notifications.ports import ListKey
from commerce_core.notifications.templates import TemplateOverride

_COLUMNS = (
    "tenant_id, id, event_id, kind, channel, customer_id, order_id, recipient,"
    " context::text AS context, status, attempts, created_at, next_attempt_at, sent_at,"
    " last_error"
)
_CONTEXT = msgspec.json.Decoder(dict[str, str])
_OVERRIDE = msgspec.json.Decoder(TemplateOverride)


def _notification(row: asyncpg.Record) -> Notification:
    return Notification(
        id=row["id"],
        tenant=row["tenant_id"],
        event_id=row["event_id"],
        kind=Kind(row["kind"]),
        channel=NotificationChannel(row["channel"]),
        customer_id=row["customer_id"],
        order_id=row["order_id"],
        recipient=row["recipient"],
        context=_CONTEXT.decode(row["context"]),
        status=NotificationStatus(row["status"]),
        attempts=row["attempts"],
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
    )


class PostgresNotifications:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, notifications: Sequence[Notification], checkpoint: Position) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if notifications:
                await conn.executemany(
                    "INSERT INTO notifications (tenant_id, id, event_id, kind, channel,"
                    " customer_id, order_id, recipient, context, status, attempts, created_at,"
                    " next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb,"
                    " $10, $11, $12, $13) ON CONFLICT (event_id, channel) DO NOTHING",
                    [
                        (
                            n.tenant,
                            n.id,
                            n.event_id,
                            str(n.kind),
                            str(n.channel),
                            n.customer_id,
                            n.order_id,
                            n.recipient,
                            msgspec.json.encode(n.context).decode(),
                            str(n.status),
                            n.attempts,
                            n.created_at,
                            n.next_attempt_at,
                        )
                        for n in notifications
                    ],
                )
            await conn.execute(
                "INSERT INTO notification_checkpoint (tx_id, global_position) VALUES ($1, $2)"
                " ON CONFLICT (only_row) DO UPDATE SET tx_id = EXCLUDED.tx_id,"
                " global_position = EXCLUDED.global_position",
                checkpoint.tx_id,
                checkpoint.global_position,
            )

    async def checkpoint(self) -> Position:
        row = await self._pool.fetchrow(
            "SELECT tx_id, global_position FROM notification_checkpoint"
        )
        return START if row is None else Position(row["tx_id"], row["global_position"])

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Notification]:
        rows = await self._pool.fetch(
            f"""
            UPDATE notifications SET next_attempt_at = $2
            WHERE (tenant_id, id) IN (
                SELECT tenant_id, id FROM notifications
                WHERE status = 'pending' AND next_attempt_at <= $1
                ORDER BY next_attempt_at, seq
                LIMIT $3 FOR UPDATE SKIP LOCKED
            )
            RETURNING {_COLUMNS}, seq
            """,
            now,
            lease_until,
            limit,
        )
        # RETURNING keeps no order: send in the order they were recorded
        return [_notification(row) for row in sorted(rows, key=lambda row: row["seq"])]

    async def record(self, notification: Notification, outcome: Outcome) -> None:
        await self._pool.execute(
            "UPDATE notifications SET status = $3, attempts = $4, next_attempt_at = $5,"
            " sent_at = $6, last_error = $7 WHERE tenant_id = $1 AND id = $2",
            notification.tenant,
            notification.id,
            str(outcome.status),
            outcome.attempts,
            outcome.next_attempt_at,
            outcome.sent_at,
            outcome.error,
        )

    async def list(
        self, tenant: str, limit: int, after: ListKey | None = None
    ) -> list[Notification]:
        # keyset on (created_at, id), the order of the index notifications_of_tenant
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM notifications WHERE tenant_id = $1"
            " AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))"
            " ORDER BY created_at DESC, id DESC LIMIT $2",
            tenant,
            limit,
            after.created_at if after else None,
            after.id if after else None,
        )
        return [_notification(row) for row in rows]


class PostgresTemplates:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, tenant: str, kind: Kind) -> TemplateOverride | None:
        found = await self._pool.fetchval(
            "SELECT override::text FROM notification_templates WHERE tenant_id = $1 AND kind = $2",
            tenant,
            str(kind),
        )
        return None if found is None else _OVERRIDE.decode(found)

    async def put(self, tenant: str, kind: Kind, override: TemplateOverride) -> None:
        await self._pool.execute(
            "INSERT INTO notification_templates (tenant_id, kind, override)"
            " VALUES ($1, $2, $3::jsonb) ON CONFLICT (tenant_id, kind)"
            " DO UPDATE SET override = EXCLUDED.override",
            tenant,
            str(kind),
            msgspec.json.encode(override).decode(),
        )
