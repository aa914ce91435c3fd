"""Merchant webhook endpoints and deliveries in PostgreSQL (migration 0026)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.crypto.webhook_secrets import WebhookSecretBox
from commerce_core.eventstore import START, Position
from commerce_core.merchant_webhooks.deliveries import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Outcome,
)
from commerce_core.merchant_webhooks.endpoints import EndpointStatus, WebhookEndpoint
from commerce_core.merchant_webhooks.ports import DeliveryKey

_ENDPOINT = (
    "tenant_id, id, url, events, description, status, notice, created_at, updated_at,"
    " failing_since, key_id, sealed_secrets"
)
_UPSERT = f"""
INSERT INTO webhook_endpoints ({_ENDPOINT})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (tenant_id, id) DO UPDATE SET
    url = EXCLUDED.url, events = EXCLUDED.events, description = EXCLUDED.description,
    status = EXCLUDED.status, notice = EXCLUDED.notice, updated_at = EXCLUDED.updated_at,
    failing_since = EXCLUDED.failing_since, key_id = EXCLUDED.key_id,
    sealed_secrets = EXCLUDED.sealed_secrets
"""
_ATTEMPTS = msgspec.json.Decoder(list[Attempt])


class PostgresWebhookEndpoints:
    """Only sealed secrets reach the database."""

    def __init__(self, pool: asyncpg.Pool, master_key: bytes) -> None:
        self._pool = pool
        self._box = WebhookSecretBox(master_key)

    async def add(self, endpoint: WebhookEndpoint) -> None:
        await self.save(endpoint)

    async def save(self, endpoint: WebhookEndpoint) -> None:
        sealed = self._box.seal(endpoint.tenant, endpoint.id, endpoint.secrets)
        await self._pool.execute(
            _UPSERT,
            endpoint.tenant,
            endpoint.id,
            endpoint.url,
            endpoint.events,
            endpoint.description,
            str(endpoint.status),
            endpoint.notice,
            endpoint.created_at,
            endpoint.updated_at,
            endpoint.failing_since,
            sealed.key_id,
            sealed.sealed,
        )

    def _endpoint(self, row: asyncpg.Record) -> WebhookEndpoint:
        sealed = SealedCredentials(row["key_id"], row["sealed_secrets"])
        return WebhookEndpoint(
            id=row["id"],
            tenant=row["tenant_id"],
            url=row["url"],
            events=list(row["events"]),
            description=row["description"],
            status=EndpointStatus(row["status"]),
            notice=row["notice"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            failing_since=row["failing_since"],
            secrets=self._box.open(row["tenant_id"], row["id"], sealed),
        )

    async def get(self, tenant: str, endpoint_id: UUID) -> WebhookEndpoint | None:
        row = await self._pool.fetchrow(
            f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2",
            tenant,
            endpoint_id,
        )
        return None if row is None else self._endpoint(row)

    async def list(self, tenant: str) -> list[WebhookEndpoint]:
        rows = await self._pool.fetch(
            f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE tenant_id = $1"
            " ORDER BY created_at, id",
            tenant,
        )
        return [self._endpoint(row) for row in rows]

    async def delete(self, tenant: str, endpoint_id: UUID) -> bool:
        done = await self._pool.execute(
            "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2", tenant, endpoint_id
        )
        return str(done) != "DELETE 0"

    async def note_attempt(
        self, tenant: str, endpoint_id: UUID, at: datetime, succeeded: bool
    ) -> datetime | None:
        since: datetime | None = await self._pool.fetchval(
            "UPDATE webhook_endpoints SET failing_since ="
            " CASE WHEN $3 THEN NULL ELSE coalesce(failing_since, $4) END"
            " WHERE tenant_id = $1 AND id = $2 RETURNING failing_since",
            tenant,
            endpoint_id,
            succeeded,
            at,
        )
        return since

    async def disable(self, tenant: str, endpoint_id: UUID, notice: str, at: datetime) -> None:
        await self._pool.execute(
            "UPDATE webhook_endpoints SET status = $3, notice = $4, updated_at = $5"
            " WHERE tenant_id = $1 AND id = $2",
            tenant,
            endpoint_id,
            str(EndpointStatus.DISABLED),
            notice,
            at,
        )


_DELIVERY = (
    "tenant_id, id, endpoint_id, event_id, event_type, body, status, created_at,"
    " next_attempt_at, attempts::text AS attempts"
)


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        id=row["id"],
        tenant=row["tenant_id"],
        endpoint_id=row["endpoint_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        body=bytes(row["body"]),
        status=DeliveryStatus(row["status"]),
        created_at=row["created_at"],
        next_attempt_at=row["next_attempt_at"],
        attempts=_ATTEMPTS.decode(row["attempts"]),
    )


class PostgresWebhookDeliveries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, deliveries: Sequence[Delivery], checkpoint: Position) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if deliveries:
                await conn.executemany(
                    "INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id,"
                    " event_type, body, status, created_at, next_attempt_at)"
                    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                    " ON CONFLICT (endpoint_id, event_id) DO NOTHING",
                    [
                        (
                            d.tenant,
                            d.id,
                            d.endpoint_id,
                            d.event_id,
                            d.event_type,
                            d.body,
                            str(d.status),
                            d.created_at,
                            d.next_attempt_at,
                        )
                        for d in deliveries
                    ],
                )
            await conn.execute(
                "INSERT INTO webhook_fanout_checkpoint (tx_id, global_position) VALUES ($1, $2)"
                " ON CONFLICT (only_row) DO UPDATE SET tx_id = EXCLUDED.tx_id,"
                " global_position = EXCLUDED.global_position",
                checkpoint.tx_id,
                checkpoint.global_position,
            )

    async def checkpoint(self) -> Position:
        row = await self._pool.fetchrow(
            "SELECT tx_id, global_position FROM webhook_fanout_checkpoint"
        )
        return START if row is None else Position(row["tx_id"], row["global_position"])

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        rows = await self._pool.fetch(
            f"""
            UPDATE webhook_deliveries SET next_attempt_at = $2
            WHERE (tenant_id, id) IN (
                SELECT tenant_id, id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= $1
                ORDER BY next_attempt_at, created_at
                LIMIT $3 FOR UPDATE SKIP LOCKED
            )
            RETURNING {_DELIVERY}
            """,
            now,
            lease_until,
            limit,
        )
        return [_delivery(row) for row in rows]

    async def record(self, delivery: Delivery, outcome: Outcome) -> None:
        await self._pool.execute(
            "UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4,"
            " attempts = attempts || $5::jsonb WHERE tenant_id = $1 AND id = $2",
            delivery.tenant,
            delivery.id,
            str(outcome.status),
            outcome.next_attempt_at,
            msgspec.json.encode([outcome.attempt]).decode(),
        )

    async def get(self, tenant: str, delivery_id: UUID) -> Delivery | None:
        row = await self._pool.fetchrow(
            f"SELECT {_DELIVERY} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2",
            tenant,
            delivery_id,
        )
        return None if row is None else _delivery(row)

    async def of_endpoint(
        self,
        tenant: str,
        endpoint_id: UUID,
        status: DeliveryStatus | None,
        limit: int,
        after: DeliveryKey | None = None,
    ) -> list[Delivery]:
        rows = await self._pool.fetch(
            f"SELECT {_DELIVERY} FROM webhook_deliveries"
            " WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::text IS NULL OR status = $3)"
            " AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6::uuid))"
            " ORDER BY created_at DESC, id DESC LIMIT $4",
            tenant,
            endpoint_id,
            None if status is None else str(status),
            limit,
            after.created_at if after else None,
            after.id if after else None,
        )
        return [_delivery(row) for row in rows]

    async def retry(self, tenant: str, delivery_id: UUID, at: datetime) -> None:
        await self._pool.execute(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $3"
            " WHERE tenant_id = $1 AND id = $2",
            tenant,
            delivery_id,
            at,
        )
