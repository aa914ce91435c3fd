"""Our order statuses <-> a POS order's fulfilment state (Square's ``FulfillmentState``).

Outbound (``to_pos``), what staff see on the till for an order we pushed:

| ours | POS |
|---|---|
| pending_payment, payment_failed, paid | proposed (not yet accepted by the store) |
| processing | reserved (accepted, being picked) |
| ready_for_shipment | prepared (ready to hand over) |
| partially_shipped, shipped, in_transit, delivered | completed |
| cancelled, refunded | canceled |
| partially_refunded, disputed, archived | nothing to mirror (None) |

Inbound (``from_pos``), what a change at the till means for our order:

| POS | ours |
|---|---|
| proposed | nothing (the POS has not acted) |
| reserved | processing |
| prepared | ready_for_shipment |
| completed | delivered for a pickup (handed over at the counter), shipped for a shipment |
| canceled | cancelled |
| failed | nothing: a person must look (the sync records it as an error) |

The two directions agree: for every status ``s`` with a POS state, ``from_pos(to_pos(s))``
is ``s`` itself or the status the flow reaches when the POS state is reached (a property
test holds this), so mirroring a change back never moves an order backwards.
"""

from __future__ import annotations

from commerce_core.channels.ports import PosFulfilmentKind, PosFulfilmentState
from commerce_core.ordering.order.states import OrderStatus

S = OrderStatus
P = PosFulfilmentState

TO_POS: dict[OrderStatus, PosFulfilmentState | None] = {
    S.PENDING_PAYMENT: P.PROPOSED,
    S.PAYMENT_FAILED: P.PROPOSED,
    S.PAID: P.PROPOSED,
    S.PROCESSING: P.RESERVED,
    S.READY_FOR_SHIPMENT: P.PREPARED,
    S.PARTIALLY_SHIPPED: P.COMPLETED,
    S.SHIPPED: P.COMPLETED,
    S.IN_TRANSIT: P.COMPLETED,
    S.DELIVERED: P.COMPLETED,
    S.CANCELLED: P.CANCELED,
    S.REFUNDED: P.CANCELED,
    S.PARTIALLY_REFUNDED: None,
    S.DISPUTED: None,
    S.ARCHIVED: None,
}


def to_pos(status: OrderStatus) -> PosFulfilmentState | None:
    """The POS fulfilment state to show for an order in ``status`` (None: leave it)."""
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
