"""Guards on top of the transition table: the rules that depend on an order's past.

``partially_refunded`` and ``disputed`` pause the fulfilment flow. The table
lists every status the flow may continue to; these guards narrow that to the
statuses reachable from where *this* order paused. The table also lets
``pending_payment`` go to fulfilment; these guards keep that to cash-on-delivery
orders.
"""

from __future__ import annotations

from commerce_core.ordering.order.errors import TransitionGuardError
from commerce_core.ordering.order.states import (
    TRANSITIONS,
    UNPAID_FULFILMENT,
    OrderStatus,
    check_transition,
)
from commerce_core.shared.errors import InvalidValueError

S = OrderStatus

MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500


def check_move(
    current: OrderStatus,
    target: OrderStatus,
    *,
    paused: OrderStatus | None,
    money_held: bool,
    cash_on_delivery: bool = False,
    owes: bool = False,
    name: str | None = None,
) -> None:
    """Raises ``InvalidTransitionError`` unless an order in ``current`` may go to ``target``.

    - The table must allow it (``check_transition``).
    - Only a cash-on-delivery order goes from ``pending_payment`` to fulfilment
      (``UNPAID_FULFILMENT``); any other is paid first.
    - An order that still ``owes`` money is not delivered: a cash-on-delivery
      order's cash is recorded first.
    - A disputed order moves only by closing the dispute (``Order.close_dispute``).
    - A partially refunded order may be refunded further or disputed; otherwise
      it continues as the status it paused (``paused``) would: to a status the
      table allows from there, or to one more partial shipment.
    - Disputing needs money held (paid and not refunded).
    - A cancelled order is archived only when all its money is refunded.
    """
    check_transition(current, target, name=name)
    if current is S.PENDING_PAYMENT and target in UNPAID_FULFILMENT and not cash_on_delivery:
        raise TransitionGuardError(
            current, target, "it is not paid (only cash on delivery is)", name=name
        )
    if target is S.DELIVERED and owes:
        raise TransitionGuardError(
            current, target, "its cash on delivery is not collected yet", name=name
        )
    if current is S.DISPUTED:
        raise TransitionGuardError(current, target, "close the dispute first", name=name)
    if current is S.PARTIALLY_REFUNDED and target not in (S.REFUNDED, S.DISPUTED):
        resumes = paused is not None and (
            target in TRANSITIONS[paused] or target is paused is S.PARTIALLY_SHIPPED
        )
        if not resumes:
            raise TransitionGuardError(
                current, target, f"its fulfilment paused at {paused}", name=name
            )
    if target is S.DISPUTED and not money_held:
        raise TransitionGuardError(current, target, "no paid money is held", name=name)
    if target is S.ARCHIVED and current is S.CANCELLED and money_held:
        raise TransitionGuardError(current, target, "paid money is not refunded yet", name=name)


def check_metadata(metadata: dict[str, str]) -> None:
    """Free-form key/value pairs a client attaches to an order, bounded in size."""
    if len(metadata) > MAX_METADATA_KEYS:
        raise InvalidValueError(f"metadata has at most {MAX_METADATA_KEYS} keys")
    for key, value in metadata.items():
        if not 0 < len(key) <= MAX_METADATA_KEY or len(value) > MAX_METADATA_VALUE:
            raise InvalidValueError(
                f"metadata keys have 1-{MAX_METADATA_KEY} characters, "
                f"values at most {MAX_METADATA_VALUE}"
            )
