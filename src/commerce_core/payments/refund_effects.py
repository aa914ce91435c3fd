"""Recording a refund on the payment and the order, as the gateway answered it.

What refund commands return, and the confirmation gateway events record. A refund
is requested on the payment (its intent), then confirmed or failed as the gateway
says (``payments/effects.py``); a ``pending`` answer leaves it requested until the
gateway's event settles it. Only a succeeded refund reaches the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from commerce_core.ordering.order import Order
from commerce_core.payments.payment import Payment, RefundStatus
from commerce_core.shared.errors import DomainError
from commerce_core.shared.money import Money


@dataclass(frozen=True)
class RefundResult:
    """A refund as ``POST /orders/{id}/refund`` and ``POST /payments/{id}/refund`` return it.

    ``attention`` is set when the gateway refunded but the order could not record it.
    """

    id: UUID
    order_id: UUID
    payment_id: UUID
    amount: Money
    status: RefundStatus
    attention: str | None = None

    @classmethod
    def of(cls, payment: Payment, refund_id: UUID, attention: str | None = None) -> RefundResult:
        refund = payment.refund_by_id(refund_id)
        return cls(refund.id, payment.order_id, payment.id, refund.amount, refund.status, attention)


@dataclass(frozen=True)
class RefundConfirmed:
    """The money of a refund went back: the gateway's (or the bank's) id for it, when, who
    records it, and the gateway event that said so (``ref``: recorded once)."""

    gateway_refund_id: str | None
    at: datetime
    actor: str
    ref: str | None = None


def has_refund(payment: Payment, refund_id: UUID) -> bool:
    return any(refund.id == refund_id for refund in payment.refunds)


def confirm_refund(
    payment: Payment, order: Order, refund_id: UUID, confirmed: RefundConfirmed
) -> str | None:
    """The gateway sent the money back: the payment and the order record it."""
    refund = payment.refund_by_id(refund_id)
    at = confirmed.at
    payment.confirm_refund(refund_id, confirmed.gateway_refund_id, at, confirmed.ref)
    try:
        order.record_refund(refund.amount, at, refund_id, refund.reason, confirmed.actor)
    except DomainError as refused:
        return f"order {order.number} did not record a refund of {refund.amount} ({refused})"
    return None
