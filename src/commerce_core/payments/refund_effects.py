"""Recording a refund on the payment and the order, as the gateway answered it.

Shared by refunds, cancellation and gateway events. A refund is requested on
the payment, then confirmed or failed as the gateway says; a ``pending``
answer leaves it requested until the gateway's event settles it. Only a
succeeded refund reaches the order (``Order.record_refund``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import Order
from commerce_core.payments.payment import Payment, RefundStatus
from commerce_core.payments.ports.gateway import GatewayRefund, GatewayRefundStatus
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
class RefundRequest:
    """A refund we ask the gateway for: our id for it, how much and why; when, and who asks."""

    refund_id: UUID
    amount: Money
    reason: str | None
    at: datetime
    actor: str


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


def apply_refund(
    payment: Payment,
    order: Order,
    ledger: OrderLedger,
    request: RefundRequest,
    answer: GatewayRefund,
) -> str | None:
    """Records a refund the gateway answered; returns a note if the order refused it."""
    refund_id, at = request.refund_id, request.at
    payment.refund(refund_id, request.amount, at, request.reason)
    ledger.link_refund(answer.gateway_refund_id, refund_id)
    if answer.status is GatewayRefundStatus.SUCCEEDED:
        confirmed = RefundConfirmed(answer.gateway_refund_id, at, request.actor)
        return confirm_refund(payment, order, refund_id, confirmed)
    if answer.status is GatewayRefundStatus.FAILED:
        payment.fail_refund(refund_id, at, answer.failure_code)
    return None


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
