"""Refusing a refund larger than what is left: one error for a payment and for an order.

An order's ``RefundExceedsPaidError`` is a kind of it, so clients meet one problem type.
"""

from __future__ import annotations

from commerce_core.shared.errors import DomainError
from commerce_core.shared.money import Money


class RefundExceedsCapturedError(DomainError):
    """A refund larger than what is left to refund; nothing was recorded."""

    def __init__(self, requested: Money, refundable: Money) -> None:
        super().__init__(f"refund of {requested} exceeds the refundable {refundable}")
        self.requested = requested
        self.refundable = refundable
