"""The payment: its statuses, refunds and disputes, and the ``Payment`` aggregate."""

from commerce_core.payments.payment.errors import (
    CaptureExceedsAuthorizedError,
    PaymentDeclinedError,
    RefundNotFoundError,
)
from commerce_core.payments.payment.payment import Payment
from commerce_core.payments.payment.states import (
    ALLOWED_TRANSITIONS,
    DisputeStatus,
    PaymentStatus,
    RefundStatus,
)
from commerce_core.payments.payment.values import Dispute, Refund

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CaptureExceedsAuthorizedError",
    "Dispute",
    "DisputeStatus",
    "Payment",
    "PaymentDeclinedError",
    "PaymentStatus",
    "Refund",
    "RefundNotFoundError",
    "RefundStatus",
]
