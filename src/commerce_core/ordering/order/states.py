"""The order lifecycle: its statuses and the one table of allowed transitions.

The HTTP layer and the docs read ``TRANSITIONS``; ``Order`` checks every status
change against it with ``check_transition``. Two statuses, ``partially_refunded``
and ``disputed``, pause the fulfilment flow, so ``Order`` adds guards that
remember where the order paused; and only a cash-on-delivery order may leave
``pending_payment`` for fulfilment unpaid (see docs/adr/0003-order-state-machine.md).
"""

from __future__ import annotations

from enum import StrEnum

from commerce_core.shared.errors import InvalidTransitionError


class OrderStatus(StrEnum):
    """Where an order is in its lifecycle (14 statuses)."""

    PENDING_PAYMENT = "pending_payment"
    PAYMENT_FAILED = "payment_failed"
    PAID = "paid"
    PROCESSING = "processing"
    READY_FOR_SHIPMENT = "ready_for_shipment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    ARCHIVED = "archived"


S = OrderStatus

# What money can do once it is held: refund part or all of it, or be disputed.
_MONEY = frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED})
_SHIP = frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED})

UNPAID_FULFILMENT: frozenset[OrderStatus] = frozenset({S.PROCESSING, S.READY_FOR_SHIPMENT}) | _SHIP
"""Where a cash-on-delivery order may go from ``pending_payment`` before it is paid (its
cash is collected at delivery); ``Order`` refuses these moves to every other order."""

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # Fulfilment before payment: cash-on-delivery orders only (Order checks the method).
    S.PENDING_PAYMENT: frozenset({S.PAID, S.PAYMENT_FAILED, S.CANCELLED}) | UNPAID_FULFILMENT,
    S.PAYMENT_FAILED: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.PROCESSING, S.READY_FOR_SHIPMENT, S.CANCELLED}) | _SHIP | _MONEY,
    S.PROCESSING: frozenset({S.READY_FOR_SHIPMENT, S.CANCELLED}) | _SHIP | _MONEY,
    S.READY_FOR_SHIPMENT: frozenset({S.CANCELLED}) | _SHIP | _MONEY,
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}) | _MONEY,
    S.SHIPPED: frozenset({S.IN_TRANSIT, S.DELIVERED}) | _MONEY,
    S.IN_TRANSIT: frozenset({S.DELIVERED}) | _MONEY,
    S.DELIVERED: frozenset({S.ARCHIVED}) | _MONEY,
    # Continues the flow where it paused (Order checks the paused status).
    S.PARTIALLY_REFUNDED: frozenset(
        {
            S.PROCESSING,
            S.READY_FOR_SHIPMENT,
            S.PARTIALLY_SHIPPED,
            S.SHIPPED,
            S.IN_TRANSIT,
            S.DELIVERED,
            S.CANCELLED,
            S.REFUNDED,
            S.DISPUTED,
            S.ARCHIVED,
        }
    ),
    S.REFUNDED: frozenset({S.ARCHIVED}),
    # Only with money still held (Order checks); a won dispute goes back there.
    S.CANCELLED: frozenset({S.DISPUTED, S.ARCHIVED}),
    # Won: back to the status it came from (Order checks which); lost: refunded.
    S.DISPUTED: frozenset(
        {
            S.PAID,
            S.PROCESSING,
            S.READY_FOR_SHIPMENT,
            S.PARTIALLY_SHIPPED,
            S.SHIPPED,
            S.IN_TRANSIT,
            S.DELIVERED,
            S.PARTIALLY_REFUNDED,
            S.CANCELLED,
            S.REFUNDED,
        }
    ),
    S.ARCHIVED: frozenset(),
}

# Statuses reached only by recording something that carries more than a reason: a
# payment, a refund, a shipment, a dispute. ``change_status`` refuses them.
COMMAND_ONLY: dict[OrderStatus, str] = {
    S.PAID: "a payment",
    S.PARTIALLY_REFUNDED: "a refund",
    S.REFUNDED: "a refund",
    S.PARTIALLY_SHIPPED: "a shipment",
    S.SHIPPED: "a shipment",
    S.DISPUTED: "a dispute",
}

AWAITING_PAYMENT: frozenset[OrderStatus] = frozenset({S.PENDING_PAYMENT, S.PAYMENT_FAILED})
"""Statuses ``mark_paid`` and ``mark_payment_failed`` work in."""

COLLECTING_CASH: frozenset[OrderStatus] = AWAITING_PAYMENT | {
    S.PROCESSING,
    S.READY_FOR_SHIPMENT,
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.IN_TRANSIT,
    S.PARTIALLY_REFUNDED,
}
"""Statuses a cash-on-delivery order records cash in (``mark_paid``), without leaving
them: its parcels are on their way and each delivery brings money. (``delivered`` is
not one: a cash-on-delivery order is delivered only once it owes nothing.)"""

CANCELLABLE: frozenset[OrderStatus] = frozenset(
    {S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.PAID, S.PROCESSING, S.READY_FOR_SHIPMENT}
)
"""Statuses ``cancel`` works from: nothing has shipped yet. (``partially_refunded`` too,
when it paused one of these; ``disputed -> cancelled`` is a won dispute, not a cancel.)"""

REFUNDABLE: frozenset[OrderStatus] = frozenset(
    {
        S.PAID,
        S.PROCESSING,
        S.READY_FOR_SHIPMENT,
        S.PARTIALLY_SHIPPED,
        S.SHIPPED,
        S.IN_TRANSIT,
        S.DELIVERED,
        S.PARTIALLY_REFUNDED,
        S.CANCELLED,
    }
)
"""Statuses ``record_refund`` works in. A refund of a cancelled order keeps it cancelled;
a disputed order's money is frozen until the dispute closes."""

FINAL: frozenset[OrderStatus] = frozenset({S.ARCHIVED})


def check_transition(current: OrderStatus, target: OrderStatus, *, name: str | None = None) -> None:
    """Raises ``InvalidTransitionError`` unless the table allows ``current -> target``
    (``name``: the order's number, for the error)."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransitionError("order", current.value, target.value, name=name)


def is_allowed(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether the table allows ``current -> target`` (guards in ``Order`` may still refuse)."""
    return target in TRANSITIONS[current]
