"""Which payment a gateway's payment id belongs to: routes webhooks that lack our ids.

A gateway event (a dispute, a refund made in the gateway's dashboard) may name
only the gateway's payment id. The reference stream's id derives from
(tenant, gateway, gateway payment id), so finding the payment is one load, with
no read model to lag behind. It is written in the same append as the payment
that first learns its gateway id.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/payment-references")


class PaymentReference(Aggregate):
    """The gateway payment id ``gateway_payment_id`` of ``gateway`` is our ``payment_id``."""

    tenant_id: str
    gateway: str
    gateway_payment_id: str
    payment_id: UUID

    @staticmethod
    def id_for(tenant_id: str, gateway: str, gateway_payment_id: str) -> UUID:
        return uuid5(_NAMESPACE, f"{tenant_id}\x00{gateway}\x00{gateway_payment_id}")

    @classmethod
    def link(
        cls, tenant_id: str, gateway: str, gateway_payment_id: str, payment_id: UUID
    ) -> PaymentReference:
        return cls(
            id=cls.id_for(tenant_id, gateway, gateway_payment_id),
            tenant_id=tenant_id,
            gateway=gateway,
            gateway_payment_id=gateway_payment_id,
            payment_id=payment_id,
        )

    @event("Linked")
    def __init__(
        self, id: UUID, tenant_id: str, gateway: str, gateway_payment_id: str, payment_id: UUID
    ) -> None:
        self.tenant_id = tenant_id
        self.gateway = gateway
        self.gateway_payment_id = gateway_payment_id
        self.payment_id = payment_id
