"""Commands a payment refuses; each records nothing.

A refund larger than what is left is ``shared.refunds.RefundExceedsCapturedError``,
shared with the order's own refusal.
"""

from __future__ import annotations

from uuid import UUID

from commerce_core.shared.errors import DomainError
from commerce_core.shared.money import Money


class CaptureExceedsAuthorizedError(DomainError):
    """A capture larger than what is left of the authorization; nothing was recorded."""

    def __init__(self, requested: Money, capturable: Money) -> None:
        super().__init__(f"capture of {requested} exceeds the capturable {capturable}")
        self.requested = requested
        self.capturable = capturable


class RefundNotFoundError(DomainError):
    def __init__(self, refund_id: UUID) -> None:
        super().__init__(f"no refund {refund_id} on this payment")
        self.refund_id = refund_id


class PaymentDeclinedError(DomainError):
    """Raised by services after recording a decline (gateways return declines as results)."""

    def __init__(self, decline_code: str | None) -> None:
        super().__init__(f"payment declined: {decline_code or 'unknown reason'}")
        self.decline_code = decline_code


class PaymentBusyError(DomainError):
    """Another gateway call on this payment is under way (a void, a capture, the charge
    itself) and would conflict with this one; nothing was recorded. Retry once it is done."""

    def __init__(self, payment_id: UUID, busy_with: str) -> None:
        super().__init__(f"payment {payment_id} has a {busy_with} under way; retry once it is done")
        self.payment_id = payment_id
        self.busy_with = busy_with
