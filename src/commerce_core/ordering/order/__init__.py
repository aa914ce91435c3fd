"""The order: lifecycle table, pricing, and the ``Order`` aggregate."""

from commerce_core.ordering.order.attribution import (
    Attribution,
    ImportChannel,
    ImportedFrom,
    check_attribution,
)
from commerce_core.ordering.order.errors import (
    CommandRequiredError,
    OrderAlreadyPaidError,
    OverpaymentError,
    PaymentInProgressError,
    PricingError,
    RefundExceedsPaidError,
    ShipmentLinesError,
    TransitionGuardError,
)
from commerce_core.ordering.order.order import SYSTEM, Order
from commerce_core.ordering.order.pricing import Discount, LineSpec, PricedOrder, price_order
from commerce_core.ordering.order.shipping import SHIPPING_METHODS, ShippingMethod, shipping_price
from commerce_core.ordering.order.states import (
    AWAITING_PAYMENT,
    CANCELLABLE,
    COLLECTING_CASH,
    COMMAND_ONLY,
    REFUNDABLE,
    TRANSITIONS,
    UNPAID_FULFILMENT,
    OrderStatus,
    check_transition,
)
from commerce_core.ordering.order.values import (
    Channel,
    DisputeOutcome,
    OrderLine,
    OrderTotals,
    StatusChange,
)
from commerce_core.shared.values import PaymentMethod

__all__ = [
    "AWAITING_PAYMENT",
    "CANCELLABLE",
    "COLLECTING_CASH",
    "COMMAND_ONLY",
    "REFUNDABLE",
    "SHIPPING_METHODS",
    "SYSTEM",
    "TRANSITIONS",
    "UNPAID_FULFILMENT",
    "Attribution",
    "Channel",
    "CommandRequiredError",
    "Discount",
    "DisputeOutcome",
    "ImportChannel",
    "ImportedFrom",
    "LineSpec",
    "Order",
    "OrderAlreadyPaidError",
    "OrderLine",
    "OrderStatus",
    "OrderTotals",
    "OverpaymentError",
    "PaymentInProgressError",
    "PaymentMethod",
    "PricedOrder",
    "PricingError",
    "RefundExceedsPaidError",
    "ShipmentLinesError",
    "ShippingMethod",
    "StatusChange",
    "TransitionGuardError",
    "check_attribution",
    "check_transition",
    "price_order",
    "shipping_price",
]
