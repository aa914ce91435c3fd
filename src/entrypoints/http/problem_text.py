"""What a domain problem says to a client: sentences in the API's words.

Domain errors carry structure (what kind of thing, its id or number, the state it is
in, the state asked for); this module turns that into a ``detail`` that names the
resource, the state it is in, and what to do instead, down to the route to call. The
domain never names routes: that happens here, at the edge.
"""

from __future__ import annotations

from typing import Any

from litestar.types import Scope

from commerce_core.catalog.services import UnknownProductError
from commerce_core.eventstore import AggregateNotFoundError
from commerce_core.inventory.routing import NoFulfilmentPlanError
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.ordering.order import OrderAlreadyPaidError
from commerce_core.ordering.order.errors import CommandRequiredError, TransitionGuardError
from commerce_core.ordering.order.states import TRANSITIONS, OrderStatus
from commerce_core.payments.gateway_refunds import RefundedByHandError
from commerce_core.processes.manual_payments import NotManualPaymentError
from commerce_core.shared.errors import InvalidTransitionError

API = "/api/v1"

# Internal kinds of aggregate, as the API calls what a client asked for.
_NOUNS = {
    "order ledger": "order",
    "sku locations": "product",
    "payment reference": "payment",
    "refund reference": "refund",
}

_ORDER_IS = {
    "pending_payment": "is waiting for payment",
    "payment_failed": "is waiting for payment (its last payment failed)",
    "paid": "is already paid",
    "processing": "is being prepared",
    "ready_for_shipment": "is ready for shipment",
    "partially_shipped": "has partly shipped",
    "shipped": "has shipped",
    "in_transit": "is on its way",
    "delivered": "is delivered",
    "cancelled": "is cancelled",
    "partially_refunded": "is partly refunded",
    "refunded": "is refunded in full",
    "disputed": "is disputed by the customer's bank",
    "archived": "is archived",
}

_SHIPPED_ALL = frozenset({"shipped", "in_transit", "delivered"})

_ORDER_TRIED = {
    "paid": "be paid",
    "payment_failed": "record a failed payment",
    "cancelled": "be cancelled",
    "partially_shipped": "ship",
    "shipped": "ship",
    "partially_refunded": "be refunded",
    "refunded": "be refunded",
    "disputed": "be disputed",
    "archived": "be archived",
    "dispute closed": "close a dispute",
}

# What the domain records to set a status, and the route that records it.
_RECORDED_BY = {
    "a payment": "charge it with POST /api/v1/payments/charge, or record money received by "
    "hand with POST /api/v1/orders/{order_id}/payments/manual",
    "a shipment": "create a shipment with POST /api/v1/orders/{order_id}/shipments",
    "a refund": "refund it with POST /api/v1/orders/{order_id}/refund",
    "a dispute": "disputes are opened by the customer's bank, through the gateway",
}

_PARTICIPLES = {
    "capture": "captured",
    "authorize": "authorized",
    "charge": "charged",
    "refund": "refunded",
    "requires_action": "sent for customer authentication",
    "rejected": "rejected",
    "approved": "approved",
}


def _path_params(scope: Scope) -> dict[str, Any]:
    params = scope.get("path_params")
    return params if isinstance(params, dict) else {}


def _fill(text: str, scope: Scope) -> str:
    order_id = _path_params(scope).get("order_id")
    return text.replace("{order_id}", str(order_id)) if order_id else text


def not_found(error: AggregateNotFoundError, scope: Scope) -> str:
    """``no order has the id …``: the resource named as the route names it."""
    noun = None
    for name, value in _path_params(scope).items():
        if str(value) == str(error.aggregate_id) and name.endswith("_id"):
            noun = name.removesuffix("_id").replace("_", " ")
    noun = noun or _NOUNS.get(error.kind or "", error.kind) or "resource"
    return (
        f"no {noun} has the id {error.aggregate_id}; check the id (another tenant's {noun} "
        "is not found either)"
    )


def _order_next(current: str) -> str:
    try:
        allowed = sorted(TRANSITIONS[OrderStatus(current)])
    except ValueError:
        return ""
    if not allowed:
        return "; nothing can change it any more"
    return "; from here it can move to: " + ", ".join(allowed)


def _order_transition(error: InvalidTransitionError, scope: Scope) -> str:
    subject = f"order {error.name}" if error.name else "the order"
    current, target = error.current, error.target
    if target in ("shipped", "partially_shipped") and current in _SHIPPED_ALL:
        return f"every line of {subject} has already shipped: nothing is left to ship"
    if current == target:
        return f"{subject} is already {current.replace('_', ' ')}: nothing to do"
    state = _ORDER_IS.get(current, f"is {current}")
    if isinstance(error, CommandRequiredError):
        how = _fill(_RECORDED_BY.get(error.recorded, ""), scope)
        return f"an order becomes {target} only by recording {error.recorded}: {how}"
    tried = _ORDER_TRIED.get(target, f"move to {target}")
    if isinstance(error, TransitionGuardError):
        return f"{subject} {state}, so it cannot {tried}: {error.reason}"
    return f"{subject} {state}, so it cannot {tried}{_order_next(current)}"


def transition(error: InvalidTransitionError, scope: Scope) -> str:
    """What the client tried, in the state the resource is in, and what is possible."""
    if isinstance(error, RefundedByHandError):
        method = error.method.replace("_", " ")
        return (
            f"payment {error.payment_id} was paid by {method}, so its money goes back by hand, "
            "not through a gateway: send it back, then record the refund with "
            f"POST {API}/payments/{error.payment_id}/manual-refund"
        )
    if error.kind == "order":
        return _order_transition(error, scope)
    subject = f"{error.kind} {error.name}" if error.name else f"the {error.kind}"
    current = error.current.replace("_", " ")
    tried = _PARTICIPLES.get(error.target, error.target.replace("_", " "))
    if error.current == error.target:
        return f"{subject} is already {current}: nothing to do"
    return f"{subject} is {current}, so it cannot be {tried}"


def card_refund(error: NotManualPaymentError, scope: Scope) -> str:
    return (
        f"payment {error.payment_id} is a card payment: its gateway gives the money back, with "
        f"POST {API}/payments/{error.payment_id}/refund"
    )


def already_paid(error: OrderAlreadyPaidError, scope: Scope) -> str:
    return f"order {error.number} is already paid: nothing is left to charge"


def insufficient_stock(error: InsufficientStockError, scope: Scope) -> str:
    if isinstance(error, NoFulfilmentPlanError):
        short = ", ".join(
            f"{s.sku} ({s.available} available, {s.requested} requested)" for s in error.shortages
        )
        return (
            f"the locations that ship do not hold enough of {short}; order fewer, receive stock"
            f" with POST {API}/inventory/{{sku}}/receipts, or let a location ship with"
            f" PUT {API}/admin/locations/{{id}}"
        )
    return (
        f"product {error.sku} has {error.available} available, {error.requested} requested; "
        f"order fewer or receive stock with POST {API}/inventory/{error.sku}/receipts"
    )


def unknown_product(error: UnknownProductError, scope: Scope) -> str:
    return (
        f"product {error.sku} is not in the catalog; check the SKU, or add the product with "
        f"PUT {API}/products/{error.sku}"
    )
