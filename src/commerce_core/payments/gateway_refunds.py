"""Which refunds go through the gateway, and what they carry to it.

The refund carries our ids as metadata (``tenant_id``, ``order_id``, ``payment_id``,
``refund_id``), so the gateway's events about it name our refund: a webhook matches
it to the refund we recorded (``payments/webhooks``). The call itself is the refund's
intent, made by ``payments/effects.py`` with the key ``<refund id>:refund``, so a
retry or recovery asks again with the same key and the gateway refunds once.
"""

from __future__ import annotations

from uuid import UUID

from commerce_core.payments.payment import Payment
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.values import PaymentMethod


class RefundedByHandError(InvalidTransitionError):
    """A refund asked of the gateway for money taken by hand (bank transfer, cash): it
    goes back by hand too (``manual_payments``). Nothing was refunded."""

    def __init__(self, payment: Payment) -> None:
        super().__init__("payment", payment.status.value, "refunded")
        method = payment.method.value.replace("_", " ")
        self.args = (f"payment {payment.id} was paid by {method}: it is refunded by hand",)
        self.payment_id = payment.id
        self.method = payment.method.value


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
