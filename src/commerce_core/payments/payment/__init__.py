"""The payment: its statuses, refunds and disputes, and the ``Payment`` aggregate."""

from commerce_core.payments.payment.errors import (
    CaptureExceedsAuthorizedError,
    PaymentBusyError,
    PaymentDeclinedError,
    RefundNotFoundError,
)
from commerce_core.payments.payment.payment import Payment
from commerce_core.payments.payment.states import (
    ALLOWED_TRANSITIONS,
    DisputeStatus,
    EffectKind,
    PaymentStatus,
    RefundStatus,
)
from commerce_core.payments.payment.values import Dispute, PaymentEffect, Refund

__all__ = [
    "ALLOWED_TRANSITIONS",
    "CaptureExceedsAuthorizedError",
    "Dispute",
    "DisputeStatus",
    "EffectKind",
    "Payment",
    "PaymentBusyError",
    "PaymentDeclinedError",
    "PaymentEffect",
    "PaymentStatus",
    "Refund",
    "RefundNotFoundError",
    "RefundStatus",
]
