"""Orders in a given state, for the order and shipment specs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from commerce_core.inventory.routing import PlannedShipment
from commerce_core.ordering.order import LineSpec, Order, OrderStatus, price_order
from commerce_core.shared.money import Money
from commerce_core.shared.pii import Encrypted
from commerce_core.shared.values import OrderNumber, PaymentMethod, Sku, SkuQuantity

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
T2 = T0 + timedelta(hours=1)
ORDER_ID = uuid.UUID("00000000-0000-0000-0000-00000000000a")
CUSTOMER = uuid.UUID("00000000-0000-0000-0000-0000000000c1")
PAYMENT = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
MUG, TEE = Sku("MUG-1"), Sku("TEE-M")
S = OrderStatus


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def sealed(text: str = "sealed-address") -> Encrypted:
    return Encrypted(CUSTOMER, text)


def new_order(
    shipping: int = 500,
    tax_bps: int = 1000,
    payment_method: PaymentMethod | None = None,
    fulfilment_plan: Sequence[PlannedShipment] = (),
) -> Order:
    """2 mugs at 10.00 and 1 tee at 20.00, 10 % tax, 5.00 shipping: total 49.00."""
    priced = price_order(
        [
            LineSpec(sku=MUG, name="Mug", quantity=2, unit_price=usd(1000), tax_rate_bps=tax_bps),
            LineSpec(sku=TEE, name="Tee", quantity=1, unit_price=usd(2000), tax_rate_bps=tax_bps),
        ],
        "USD",
        shipping=usd(shipping),
    )
    return Order.place(
        id=ORDER_ID,
        tenant_id="tenant-1",
        number=OrderNumber("ORD-000001"),
        customer_id=CUSTOMER,
        priced=priced,
        at=T0,
        shipping_address=sealed(),
        shipping_method="standard",
        payment_method=payment_method,
        metadata={"campaign": "spring"},
        reservation_expires_at=T0 + timedelta(minutes=30),
        fulfilment_plan=fulfilment_plan,
    )


def paid_order() -> Order:
    order = new_order()
    order.mark_paid(order.outstanding, PAYMENT, T1)
    return order


def shipped(order: Order, *lines: SkuQuantity) -> Order:
    order.record_shipment(uuid.uuid4(), list(lines) or None, T1)
    return order


def in_status(status: OrderStatus) -> Order:
    """An order brought to ``status`` by the shortest ordinary path."""
    order = new_order()
    paths: dict[OrderStatus, list[Callable[[Order], object]]] = {
        S.PENDING_PAYMENT: [],
        S.PAYMENT_FAILED: [lambda o: o.mark_payment_failed("declined", T1)],
        S.PAID: [pay],
        S.PROCESSING: [pay, lambda o: o.change_status(S.PROCESSING, T1, "staff")],
        S.READY_FOR_SHIPMENT: [pay, lambda o: o.change_status(S.READY_FOR_SHIPMENT, T1, "staff")],
        S.PARTIALLY_SHIPPED: [pay, lambda o: shipped(o, SkuQuantity(MUG, 1))],
        S.SHIPPED: [pay, shipped],
        S.IN_TRANSIT: [pay, shipped, lambda o: o.change_status(S.IN_TRANSIT, T1, "carrier")],
        S.DELIVERED: [pay, shipped, lambda o: o.mark_delivered(T1)],
        S.CANCELLED: [lambda o: o.cancel("changed mind", T1)],
        S.PARTIALLY_REFUNDED: [pay, lambda o: o.record_refund(usd(100), T1)],
        S.REFUNDED: [pay, lambda o: o.record_refund(o.refundable, T1)],
        S.DISPUTED: [pay, lambda o: o.open_dispute("fraudulent", T1)],
        S.ARCHIVED: [pay, shipped, lambda o: o.mark_delivered(T1), lambda o: o.archive(T2)],
    }
    for step in paths[status]:
        step(order)
    assert order.status is status
    return order


def pay(order: Order) -> None:
    order.mark_paid(order.outstanding, PAYMENT, T1)
