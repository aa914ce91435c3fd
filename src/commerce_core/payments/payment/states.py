"""A payment's statuses, its refunds' and disputes', and the table of allowed status changes."""

from __future__ import annotations

from enum import StrEnum


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"
    DISPUTED = "disputed"


class RefundStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # waits for an admin: no gateway call yet
    REJECTED = "rejected"  # an admin refused it: no money moved
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EffectKind(StrEnum):
    """What a gateway call we decided on does (an intent, see ``Payment.request_*``)."""

    AUTHORIZE = "authorize"
    CHARGE = "charge"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class DisputeStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


_S = PaymentStatus


ALLOWED_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    _S.PENDING: frozenset({_S.AUTHORIZED, _S.FAILED, _S.VOIDED}),
    _S.AUTHORIZED: frozenset({_S.CAPTURED, _S.VOIDED}),
    _S.CAPTURED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED, _S.DISPUTED}),
    _S.PARTIALLY_REFUNDED: frozenset({_S.REFUNDED, _S.DISPUTED}),
    _S.DISPUTED: frozenset({_S.CAPTURED, _S.PARTIALLY_REFUNDED}),
    _S.REFUNDED: frozenset(),
    _S.VOIDED: frozenset(),
    _S.FAILED: frozenset(),
}
"""Status changes a payment may make (staying in the same status is always allowed)."""
