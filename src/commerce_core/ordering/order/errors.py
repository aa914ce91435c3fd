"""Why an order refused a command. All are ``DomainError``s; none knows an HTTP status."""

from __future__ import annotations

from uuid import UUID

from commerce_core.shared.errors import DomainError, InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.refunds import RefundExceedsCapturedError


class TransitionGuardError(InvalidTransitionError):
    """The table allows the change, but not from where this order is (``reason`` says why)."""

    def __init__(self, current: str, target: str, reason: str, *, name: str | None = None) -> None:
        super().__init__("order", current, target, name=name)
        self.args = (f"{self.args[0]}: {reason}",)
        self.reason = reason


class CommandRequiredError(TransitionGuardError):
    """``change_status`` was asked for a status that only recording something sets: a
    payment, a refund, a shipment or a dispute (``recorded``, see ``COMMAND_ONLY``)."""

    def __init__(
        self, current: str, target: str, recorded: str, *, name: str | None = None
    ) -> None:
        super().__init__(current, target, f"only recording {recorded} does that", name=name)
        self.recorded = recorded


class OverpaymentError(DomainError):
    """A payment larger than what the order still owes."""

    def __init__(self, amount: Money, outstanding: Money) -> None:
        super().__init__(f"payment of {amount} exceeds the {outstanding} outstanding")
        self.amount = amount
        self.outstanding = outstanding


class RefundExceedsPaidError(RefundExceedsCapturedError):
    """A refund larger than what the order was paid and has not refunded yet.

    A kind of the payment's ``RefundExceedsCapturedError``: one problem type
    (``refund-exceeds-captured``) for both.
    """


class ShipmentLinesError(InvalidValueError):
    """A shipment names a SKU the order lacks or more units than are left to ship."""


class PricingError(InvalidValueError):
    """Order lines, discounts or shipping that cannot be priced (mixed currencies, duplicates)."""


class OrderAlreadyPaidError(DomainError):
    """A payment asked of an order that owes nothing: it was paid already."""

    def __init__(self, number: str) -> None:
        super().__init__(f"order {number} is paid already")
        self.number = number


class PaymentInProgressError(DomainError):
    """A payment asked of an order while another payment of it is under way (its gateway
    call has no recorded outcome yet): nothing was done; retry once that one is settled."""

    def __init__(self, number: str, payment_id: UUID) -> None:
        super().__init__(f"order {number} has payment {payment_id} under way")
        self.number = number
        self.payment_id = payment_id
