"""Our order statuses <-> a POS order's fulfilment state (Square's ``FulfillmentState``).

Outbound (``to_pos``), what staff see on the till for an order we pushed:

| ours | POS |
|---|---|
| pending_payment, payment_failed, paid | proposed (not yet accepted by the store) |
| processing | reserved (accepted, being picked) |
| ready_for_shipment | prepared (ready to hand over) |
| shipped, in_transit | completed for a shipment; prepared for a pickup (not handed over yet) |
| delivered | completed |
| cancelled, refunded | canceled |
| partially_shipped, partially_refunded, disputed, archived | nothing to mirror (None) |

Inbound (``from_pos``), what a change at the till means for our order:

| POS | ours |
|---|---|
| proposed | nothing (the POS has not acted) |
| reserved | processing |
| prepared | ready_for_shipment |
| completed | delivered for a pickup (handed over at the counter), shipped for a shipment |
| canceled | cancelled |
| failed | nothing: a person must look (the sync records it as an error) |

A POS state is applied to one of our orders through ``mirrored``, which answers only a
forward move (further along the fulfilment flow, or an allowed cancellation): so the
echo of our own change coming back from the POS is nothing to do, and a late or repeated
webhook never moves an order backwards (property tests hold both).
"""

from __future__ import annotations

from commerce_core.channels.ports import PosFulfilmentKind, PosFulfilmentState
from commerce_core.ordering.order.states import TRANSITIONS, OrderStatus

S = OrderStatus
P = PosFulfilmentState

TO_POS: dict[OrderStatus, PosFulfilmentState | None] = {
    S.PENDING_PAYMENT: P.PROPOSED,
    S.PAYMENT_FAILED: P.PROPOSED,
    S.PAID: P.PROPOSED,
    S.PROCESSING: P.RESERVED,
    S.READY_FOR_SHIPMENT: P.PREPARED,
    S.PARTIALLY_SHIPPED: None,
    S.SHIPPED: P.COMPLETED,
    S.IN_TRANSIT: P.COMPLETED,
    S.DELIVERED: P.COMPLETED,
    S.CANCELLED: P.CANCELED,
    S.REFUNDED: P.CANCELED,
    S.PARTIALLY_REFUNDED: None,
    S.DISPUTED: None,
    S.ARCHIVED: None,
}


PICKUP_TO_POS: dict[OrderStatus, PosFulfilmentState] = {
    S.SHIPPED: P.PREPARED,
    S.IN_TRANSIT: P.PREPARED,
}
"""Where a pickup differs: it is complete only once handed over at the counter."""


def to_pos(status: OrderStatus, kind: PosFulfilmentKind) -> PosFulfilmentState | None:
    """The POS fulfilment state to show for an order in ``status`` (None: leave it)."""
    if kind is PosFulfilmentKind.PICKUP and status in PICKUP_TO_POS:
        return PICKUP_TO_POS[status]
    return TO_POS[status]


def from_pos(state: PosFulfilmentState, kind: PosFulfilmentKind) -> OrderStatus | None:
    """Our status for a POS fulfilment now in ``state`` (None: nothing to apply)."""
    if state is P.COMPLETED:
        return S.DELIVERED if kind is PosFulfilmentKind.PICKUP else S.SHIPPED
    return {
        P.RESERVED: S.PROCESSING,
        P.PREPARED: S.READY_FOR_SHIPMENT,
        P.CANCELED: S.CANCELLED,
    }.get(state)


def mirrored(
    current: OrderStatus, state: PosFulfilmentState, kind: PosFulfilmentKind
) -> OrderStatus | None:
    """The status to move an order in ``current`` to, now that the POS shows ``state``;
    None when that is no move forward (the same status, an earlier one, or nothing)."""
    target = from_pos(state, kind)
    return target if target is not None and forward(current, target) else None


FLOW: tuple[frozenset[OrderStatus], ...] = (
    frozenset({S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.PAID}),
    frozenset({S.PROCESSING}),
    frozenset({S.READY_FOR_SHIPMENT}),
    frozenset({S.PARTIALLY_SHIPPED}),
    frozenset({S.SHIPPED}),
    frozenset({S.IN_TRANSIT}),
    frozenset({S.DELIVERED}),
)
"""The fulfilment flow in order. A POS never moves an order paused by money (partially
refunded, disputed) or closed (cancelled, refunded, archived): a person or the flow does."""


def _rank(status: OrderStatus) -> int | None:
    return next((n for n, step in enumerate(FLOW) if status in step), None)


def forward(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether ``target`` is a move forward from ``current``: further along the flow, or a
    cancellation the lifecycle allows from there."""
    here, there = _rank(current), _rank(target)
    if here is None:
        return False
    if target is S.CANCELLED:
        return target in TRANSITIONS[current]
    return there is not None and there > here
