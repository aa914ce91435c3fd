"""Which payment a refund awaiting approval belongs to: ``/refunds/{id}`` finds it in one load.

The refund itself lives on its payment's stream (every step of it is an event
there). The reference stream's id derives from (tenant, refund id) and is written
in the same append as the refund's request for approval, so approving right after
asking finds it, with no read model to lag behind, and another tenant's key derives
another id: it finds nothing.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.shared.loading import load_owned

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/refund-references")


class RefundReference(Aggregate):
    """The refund ``refund_id`` is on payment ``payment_id`` of order ``order_id``."""

    tenant_id: str
    refund_id: UUID
    payment_id: UUID
    order_id: UUID

    @staticmethod
    def id_for(tenant_id: str, refund_id: UUID) -> UUID:
        return uuid5(_NAMESPACE, f"{tenant_id}\x00{refund_id}")

    @classmethod
    def link(
        cls, tenant_id: str, refund_id: UUID, payment_id: UUID, order_id: UUID
    ) -> RefundReference:
        return cls(
            id=cls.id_for(tenant_id, refund_id),
            tenant_id=tenant_id,
            refund_id=refund_id,
            payment_id=payment_id,
            order_id=order_id,
        )

    @event("Linked")
    def __init__(
        self, id: UUID, tenant_id: str, refund_id: UUID, payment_id: UUID, order_id: UUID
    ) -> None:
        self.tenant_id = tenant_id
        self.refund_id = refund_id
        self.payment_id = payment_id
        self.order_id = order_id


async def load_refund_reference(
    repo: Repository, tenant_id: str, refund_id: UUID
) -> RefundReference:
    """The tenant's reference to ``refund_id``; ``AggregateNotFoundError`` (404) for a
    refund that never awaited approval or is another tenant's."""
    reference_id = RefundReference.id_for(tenant_id, refund_id)
    try:
        return await load_owned(repo, tenant_id, reference_id, RefundReference)
    except AggregateNotFoundError:
        raise AggregateNotFoundError(refund_id, "refund awaiting approval") from None
