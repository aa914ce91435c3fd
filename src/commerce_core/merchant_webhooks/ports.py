"""The ports of merchant webhooks: where endpoints and deliveries are kept, how a host
name is resolved and how a signed request is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.eventstore import Position
from commerce_core.merchant_webhooks.deliveries import Delivery, DeliveryStatus, Outcome
from commerce_core.merchant_webhooks.endpoints import WebhookEndpoint


class DeliveryKey(msgspec.Struct, frozen=True):
    """Where a page of deliveries ended: its last one's ``created_at`` and ``id``."""

    created_at: datetime
    id: UUID

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryKey:
        return cls(delivery.created_at, delivery.id)

    def key(self) -> tuple[datetime, UUID]:
        return (self.created_at, self.id)


class WebhookEndpoints(Protocol):
    """A tenant's endpoints; secrets are sealed at rest by the store. Every read is by
    tenant, so one tenant never sees another's endpoint."""

    async def add(self, endpoint: WebhookEndpoint) -> None: ...

    async def save(self, endpoint: WebhookEndpoint) -> None:
        """Replaces the stored endpoint of the same tenant and id."""
        ...

    async def get(self, tenant: str, endpoint_id: UUID) -> WebhookEndpoint | None: ...

    async def list(self, tenant: str) -> list[WebhookEndpoint]:
        """Oldest first."""
        ...

    async def delete(self, tenant: str, endpoint_id: UUID) -> bool:
        """Removes the endpoint and its deliveries; False when there was none."""
        ...

    async def note_attempt(
        self, tenant: str, endpoint_id: UUID, at: datetime, succeeded: bool
    ) -> datetime | None:
        """Clears the failure streak on success, starts it (at ``at``) on a first failure;
        returns when the streak began (None after a success). Changes nothing else, so
        it never undoes a concurrent change of the endpoint."""
        ...

    async def disable(self, tenant: str, endpoint_id: UUID, notice: str, at: datetime) -> None:
        """Disables the endpoint, saying why in ``notice``."""
        ...


class WebhookDeliveries(Protocol):
    """Deliveries and their attempts, and the fan-out's checkpoint in the event log.

    ``add`` keeps one delivery per (endpoint, event): adding it again is a no-op, so a
    fan-out that reads an event twice still sends it once. ``claim_due`` hands each
    due delivery to one caller until ``lease_until`` (several workers may run)."""

    async def add(self, deliveries: Sequence[Delivery], checkpoint: Position) -> None:
        """Adds the new deliveries and moves the checkpoint, together."""
        ...

    async def checkpoint(self) -> Position: ...

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Pending deliveries whose time has come, oldest first, leased until ``lease_until``."""
        ...

    async def record(self, delivery: Delivery, outcome: Outcome) -> None: ...

    async def get(self, tenant: str, delivery_id: UUID) -> Delivery | None: ...

    async def of_endpoint(
        self,
        tenant: str,
        endpoint_id: UUID,
        status: DeliveryStatus | None,
        limit: int,
        after: DeliveryKey | None = None,
    ) -> list[Delivery]:
        """Newest first (by ``created_at``, then ``id``), from just after ``after``."""
        ...

    async def retry(self, tenant: str, delivery_id: UUID, at: datetime) -> None:
        """Makes the delivery pending again, due at ``at``."""
        ...


class SendResult(msgspec.Struct, frozen=True, kw_only=True):
    status_code: int | None
    error: str | None = None
    response_body: str | None = None


class WebhookSender(Protocol):
    """Posts a body to a URL, waiting at most ``time_limit`` seconds; never raises for
    the receiver's failures (refused, timed out, any status): they are in the result."""

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes, time_limit: float
    ) -> SendResult: ...


class HostResolver(Protocol):
    """The addresses a host name resolves to now (empty when it does not resolve)."""

    async def resolve(self, host: str) -> list[str]: ...
