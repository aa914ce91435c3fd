"""Asking the gateway to refund part of a payment, as every refund we make asks it.

The refund carries our ids as metadata (``tenant_id``, ``order_id``, ``payment_id``,
``refund_id``), so the gateway's events about it name our refund: a webhook matches
it to the refund we recorded, or records it under our id if our own save failed after
the gateway refunded (see ``application/webhooks.py``). A refund of a destination
payment reverses the transfer to the seller (``seller_destinations``). The
idempotency key derives from our refund id, so a retried command asks again with
the same key and the gateway refunds once.
"""

from __future__ import annotations

from uuid import UUID

from commerce_core.payments.destinations import reverses_transfer
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.gateway import GatewayRefund, PaymentGateway
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.money import Money
from commerce_core.shared.values import PaymentMethod


def refunds_at_gateway(payment: Payment) -> bool:
    """Whether the gateway holds this payment's money: card payments. Money taken by hand
    (bank transfer, cash) goes back by hand (``manual_payments``), never through the
    gateway, which does not know the payment's reference."""
    return payment.method is PaymentMethod.CARD and payment.gateway_payment_id is not None


def refund_metadata(payment: Payment, refund_id: UUID) -> dict[str, str]:
    """What the gateway keeps with the refund and sends back in its events."""
    return {
        "tenant_id": payment.tenant_id,
        "order_id": str(payment.order_id),
        "payment_id": str(payment.id),
        "refund_id": str(refund_id),
    }


async def refund_at_gateway(
    gateway: PaymentGateway,
    payment: Payment,
    amount: Money,
    refund_id: UUID,
    reason: str | None,
) -> GatewayRefund:
    """Refunds ``amount`` of ``payment`` at the gateway as our refund ``refund_id``."""
    gateway_id = payment.gateway_payment_id
    if gateway_id is None or not refunds_at_gateway(payment):
        raise InvalidTransitionError("payment", payment.status, "refunded")
    key = f"{refund_id}:refund"
    metadata = refund_metadata(payment, refund_id)
    reverse = reverses_transfer(payment)
    return await call_gateway(
        lambda: gateway.refund(
            gateway_id, amount, key, reason, reverse_transfer=reverse, metadata=metadata
        )
    )
