"""What payment commands return and refuse with, and how much a new payment takes."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from commerce_core.ordering.order import AWAITING_PAYMENT, Order
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.shared.bounds import MAX_AMOUNT, check_at_most
from commerce_core.shared.errors import DomainError, InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money


class NothingToPayError(DomainError):
    """The order owes nothing that an open authorization does not already cover."""


class PaymentInFlightError(DomainError):
    """The customer completed this payment at the gateway and its news (the webhook) has
    not reached us yet: nothing was done; retry once it has."""

    def __init__(self, payment_id: UUID) -> None:
        super().__init__(f"payment {payment_id} completed at the gateway; its event is on the way")
        self.payment_id = payment_id


@dataclass(frozen=True)
class PaymentResult:
    """A payment after a command, with what the caller needs but we do not store.

    ``client_secret``: for the customer's browser when ``payment.requires_action``.
    ``attention``: set when money moved but the order or its stock could not follow
    (e.g. the order was cancelled meanwhile, or stock ran out): an operator acts.
    ``pending``: the gateway's answer is late; the call is recorded and the service
    finishes it itself (HTTP 202).
    """

    payment: Payment
    client_secret: str | None = None
    attention: str | None = None
    pending: bool = False


def as_money(amount: int | Money | None, currency: str) -> Money | None:
    """An amount a command was given (a capture, a refund) in minor units of ``currency``
    (or as ``Money`` in it); ``OutOfBoundsError`` above ``MAX_AMOUNT``."""
    if amount is None:
        return None
    if isinstance(amount, Money):
        if amount.currency != currency:
            raise InvalidValueError(f"expected an amount in {currency}, got {amount}")
    else:
        amount = Money(amount, currency)
    check_at_most("amount", amount.amount, MAX_AMOUNT)
    return amount


def amount_due(order: Order, payments: list[Payment]) -> Money:
    """What a new payment should take: the order's outstanding amount less what open
    authorizations already hold. ``InvalidTransitionError`` unless the order awaits
    payment; ``NothingToPayError`` when nothing is left."""
    if order.status not in AWAITING_PAYMENT:
        raise InvalidTransitionError("order", order.status, "paid", name=order.number)
    held = sum(
        (p.capturable for p in payments if p.status is PaymentStatus.AUTHORIZED),
        Money.zero(order.currency),
    )
    due = order.outstanding - held
    if due.amount <= 0:
        raise NothingToPayError(f"order {order.number} owes nothing beyond {held} authorized")
    return due
