"""Email uniqueness per tenant: one small stream per (tenant, email blind index).

The stream id derives from the tenant and the blind index of the email, so two
customers registering one email at once both append to the same stream and the
event store lets only one of them through (optimistic concurrency), with no
read model to race against. Loading the claim also answers "which customer has
this email?".
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from commerce_core.shared.errors import DomainError

_CLAIM_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/email-claims")


class EmailTakenError(DomainError):
    """Another customer of the tenant already has this email."""


def email_claim_id(tenant_id: str, email_index: str) -> UUID:
    return uuid5(_CLAIM_NAMESPACE, f"{tenant_id}:{email_index}")


class EmailClaim(Aggregate):
    """Which customer of a tenant holds an email (known only by its blind index)."""

    tenant_id: str
    customer_id: UUID | None

    @classmethod
    def claim_new(
        cls, tenant_id: str, email_index: str, customer_id: UUID, at: datetime
    ) -> EmailClaim:
        return cls(
            id=email_claim_id(tenant_id, email_index),
            tenant_id=tenant_id,
            customer_id=customer_id,
            at=at,
        )

    @event("Claimed")
    def __init__(self, id: UUID, tenant_id: str, customer_id: UUID, at: datetime) -> None:
        # ``id`` becomes the aggregate's id, not an event field
        self.tenant_id = tenant_id
        self.customer_id = customer_id

    def claim(self, customer_id: UUID, at: datetime) -> None:
        """Takes a released email; refuses one held by another customer."""
        if self.customer_id == customer_id:
            return
        if self.customer_id is not None:
            raise EmailTakenError("another customer already has this email")
        self._claimed_again(customer_id=customer_id, at=at)

    @event("Reclaimed")
    def _claimed_again(self, customer_id: UUID, at: datetime) -> None:
        self.customer_id = customer_id

    def release(self, customer_id: UUID, at: datetime) -> None:
        """Frees the email if ``customer_id`` holds it (email changed, customer erased)."""
        if self.customer_id == customer_id:
            self._released(customer_id=customer_id, at=at)

    @event("Released")
    def _released(self, customer_id: UUID, at: datetime) -> None:
        self.customer_id = None
