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


def has_refund(payment: Payment, refund_id: UUID) -> bool:
    return any(refund.id == refund_id for refund in payment.refunds)


def apply_refund(
    payment: Payment,
    order: Order,
    ledger: OrderLedger,
    refund_id: UUID,
    amount: Money,
    reason: str | None,
    answer: GatewayRefund,
    at: datetime,
    actor: str,
) -> str | None:
    """Records a refund the gateway answered; returns a note if the order refused it."""
    payment.refund(refund_id, amount, at, reason)
    ledger.link_refund(answer.gateway_refund_id, refund_id)
    if answer.status is GatewayRefundStatus.SUCCEEDED:
        return confirm_refund(payment, order, refund_id, answer.gateway_refund_id, at, actor)
    if answer.status is GatewayRefundStatus.FAILED:
        payment.fail_refund(refund_id, at, answer.failure_code)
    return None


def confirm_refund(
    payment: Payment,
    order: Order,
    refund_id: UUID,
    gateway_refund_id: str | None,
    at: datetime,
    actor: str,
    ref: str | None = None,
) -> str | None:
    """The gateway sent the money back: the payment and the order record it."""
    refund = payment.refund_by_id(refund_id)
    payment.confirm_refund(refund_id, gateway_refund_id, at, ref)
    try:
        order.record_refund(refund.amount, at, refund_id, refund.reason, actor)
    except DomainError as refused:
        return f"order {order.number} did not record a refund of {refund.amount} ({refused})"
    return None
