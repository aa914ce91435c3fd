"""Merchant webhook endpoints and deliveries in memory (unit tests, runs without a
database); secrets are sealed as in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.crypto.webhook_secrets import WebhookSecretBox
from commerce_core.eventstore import START, Position
from commerce_core.merchant_webhooks.deliveries import Delivery, DeliveryStatus, Outcome
from commerce_core.merchant_webhooks.endpoints import EndpointStatus, WebhookEndpoint
from commerce_core.merchant_webhooks.ports import DeliveryKey

_Row = tuple[WebhookEndpoint, SealedCredentials]


class MemoryWebhookEndpoints:
    def __init__(self, master_key: bytes, deliveries: MemoryWebhookDeliveries) -> None:
        self._box = WebhookSecretBox(master_key)
        self._deliveries = deliveries
        self.rows: dict[tuple[str, UUID], _Row] = {}

    async def add(self, endpoint: WebhookEndpoint) -> None:
        await self.save(endpoint)

    async def save(self, endpoint: WebhookEndpoint) -> None:
        sealed = self._box.seal(endpoint.tenant, endpoint.id, endpoint.secrets)
        hidden = msgspec.structs.replace(
            endpoint, secrets=msgspec.structs.replace(endpoint.secrets, current="", previous=None)
        )
        self.rows[(endpoint.tenant, endpoint.id)] = (hidden, sealed)

    async def get(self, tenant: str, endpoint_id: UUID) -> WebhookEndpoint | None:
        row = self.rows.get((tenant, endpoint_id))
        if row is None:
            return None
        hidden, sealed = row
        return msgspec.structs.replace(hidden, secrets=self._box.open(tenant, endpoint_id, sealed))

    async def list(self, tenant: str) -> list[WebhookEndpoint]:
        found = [
            await self.get(tenant, endpoint_id)
            for (owner, endpoint_id) in list(self.rows)
            if owner == tenant
        ]
        return sorted((e for e in found if e is not None), key=lambda e: (e.created_at, e.id))

    async def delete(self, tenant: str, endpoint_id: UUID) -> bool:
        if self.rows.pop((tenant, endpoint_id), None) is None:
            return False
        self._deliveries.drop_endpoint(endpoint_id)
        return True

    async def note_attempt(
        self, tenant: str, endpoint_id: UUID, at: datetime, succeeded: bool
    ) -> datetime | None:
        row = self.rows.get((tenant, endpoint_id))
        if row is None:
            return None
        hidden, sealed = row
        since = None if succeeded else (hidden.failing_since or at)
        self.rows[(tenant, endpoint_id)] = (
            msgspec.structs.replace(hidden, failing_since=since),
            sealed,
        )
        return since

    async def disable(self, tenant: str, endpoint_id: UUID, notice: str, at: datetime) -> None:
        row = self.rows.get((tenant, endpoint_id))
        if row is not None:
            hidden, sealed = row
            disabled = msgspec.structs.replace(
                hidden, status=EndpointStatus.DISABLED, notice=notice, updated_at=at
            )
            self.rows[(tenant, endpoint_id)] = (disabled, sealed)


class MemoryWebhookDeliveries:
    def __init__(self) -> None:
        self.rows: dict[UUID, Delivery] = {}
        self._position = START

    def drop_endpoint(self, endpoint_id: UUID) -> None:
        for delivery_id in [d.id for d in self.rows.values() if d.endpoint_id == endpoint_id]:
            del self.rows[delivery_id]

    async def add(self, deliveries: Sequence[Delivery], checkpoint: Position) -> None:
        seen = {(d.endpoint_id, d.event_id) for d in self.rows.values()}
        for delivery in deliveries:
            if (delivery.endpoint_id, delivery.event_id) not in seen:
                self.rows[delivery.id] = delivery
                seen.add((delivery.endpoint_id, delivery.event_id))
        self._position = max(self._position, checkpoint)

    async def checkpoint(self) -> Position:
        return self._position

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        due = sorted(
            (
                d
                for d in self.rows.values()
                if d.status is DeliveryStatus.PENDING
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
            ),
            key=lambda d: (d.next_attempt_at, d.created_at),
        )[:limit]
        for delivery in due:
            self.rows[delivery.id] = msgspec.structs.replace(delivery, next_attempt_at=lease_until)
        return due

    async def record(self, delivery: Delivery, outcome: Outcome) -> None:
        stored = self.rows.get(delivery.id)
        if stored is None:
            return
        self.rows[delivery.id] = msgspec.structs.replace(
            stored,
            status=outcome.status,
            next_attempt_at=outcome.next_attempt_at,
            attempts=[*stored.attempts, outcome.attempt],
        )

    async def get(self, tenant: str, delivery_id: UUID) -> Delivery | None:
        delivery = self.rows.get(delivery_id)
        return delivery if delivery is not None and delivery.tenant == tenant else None

    async def of_endpoint(
        self,
        tenant: str,
        endpoint_id: UUID,
        status: DeliveryStatus | None,
        limit: int,
        after: DeliveryKey | None = None,
    ) -> list[Delivery]:
        found = [
            d
            for d in self.rows.values()
            if d.tenant == tenant
            and d.endpoint_id == endpoint_id
            and (status is None or d.status is status)
            and (after is None or (d.created_at, d.id) < after.key())
        ]
        return sorted(found, key=lambda d: (d.created_at, d.id), reverse=True)[:limit]

    async def retry(self, tenant: str, delivery_id: UUID, at: datetime) -> None:
        delivery = await self.get(tenant, delivery_id)
        if delivery is not None:
            self.rows[delivery_id] = msgspec.structs.replace(
                delivery, status=DeliveryStatus.PENDING, next_attempt_at=at
            )
