"""Money and quantities are bounded: no accepted order has an amount above its maximum."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce_core.catalog.product import Product
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.order import PricingError
from commerce_core.ordering.order.pricing import Discount, LineSpec, price_order
from commerce_core.shared.bounds import (
    MAX_AMOUNT,
    MAX_LINE_TOTAL,
    MAX_ON_HAND,
    MAX_ORDER_TOTAL,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    OutOfBoundsError,
)
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.shop import Shop, usd

AT = datetime(2026, 1, 1, tzinfo=UTC)
INT64_MAX = 2**63 - 1


def test_every_bound_leaves_room_to_add_up_many_orders_in_int64() -> None:
    assert MAX_UNIT_PRICE <= MAX_LINE_TOTAL <= MAX_ORDER_TOTAL
    assert MAX_ORDER_TOTAL * 500_000 < INT64_MAX
    assert MAX_ON_HAND * 1000 < INT64_MAX


@given(price=st.integers(MAX_UNIT_PRICE + 1, 2**80))
def test_a_product_cannot_be_priced_above_the_maximum(price: int) -> None:
    with pytest.raises(OutOfBoundsError) as refused:
        Product.define("t1", "BIG-1", "Big", usd(price), 0, AT)
    assert refused.value.field == "price"
    assert refused.value.maximum == MAX_UNIT_PRICE


def test_a_product_may_cost_exactly_the_maximum_and_be_repriced_within_it() -> None:
    product = Product.define("t1", "BIG-1", "Big", usd(MAX_UNIT_PRICE), 0, AT)
    with pytest.raises(OutOfBoundsError):
        product.change("Big", usd(MAX_UNIT_PRICE + 1), 0, AT)
    assert product.price == usd(MAX_UNIT_PRICE)


def test_stock_received_is_bounded_per_receipt_and_on_hand() -> None:
    item = StockItem.create("t1", "MUG-1", AT)
    with pytest.raises(OutOfBoundsError) as refused:
        item.receive(MAX_QUANTITY + 1, AT)
    assert refused.value.field == "quantity"
    with pytest.raises(OutOfBoundsError) as counted:
        item.adjust("count", AT, counted=MAX_ON_HAND + 1)
    assert counted.value.field == "counted"
    assert item.on_hand == 0


def test_an_order_line_quantity_is_bounded() -> None:
    with pytest.raises(OutOfBoundsError):
        SkuQuantity(Sku("MUG-1"), MAX_QUANTITY + 1)


lines = st.lists(
    st.tuples(
        st.integers(0, 2 * MAX_UNIT_PRICE),  # unit price, also beyond the bound
        st.integers(1, MAX_QUANTITY),
        st.integers(0, 10_000),  # tax rate
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=lines,
    shipping=st.integers(0, 2 * MAX_AMOUNT),
    discount=st.none() | st.integers(0, 2 * MAX_AMOUNT),
)
def test_no_priced_order_has_an_amount_above_its_maximum(
    lines: list[tuple[int, int, int]], shipping: int, discount: int | None
) -> None:
    specs = [
        LineSpec(sku=Sku(f"SKU-{n}"), name="x", quantity=q, unit_price=usd(p), tax_rate_bps=tax)
        for n, (p, q, tax) in enumerate(lines)
    ]
    discounts = [] if discount is None else [Discount.fixed(usd(discount))]
    try:
        priced = price_order(specs, "USD", discounts=discounts, shipping=usd(shipping))
    except OutOfBoundsError as refused:
        field = refused.field  # names what was too large
        assert field.startswith(("lines[", "shipping", "discount", "subtotal", "total", "tax"))
        return
    totals = priced.totals
    assert 0 <= totals.total.amount <= MAX_ORDER_TOTAL
    assert totals.subtotal.amount <= MAX_ORDER_TOTAL
    assert totals.shipping.amount <= MAX_AMOUNT
    for line in priced.lines:
        assert line.unit_price.amount <= MAX_UNIT_PRICE
        assert line.quantity <= MAX_QUANTITY
        assert line.line_total.amount <= MAX_LINE_TOTAL


def test_the_order_of_the_issue_is_refused_naming_the_line() -> None:
    big = LineSpec(sku=Sku("BIG-1"), name="Big", quantity=4, unit_price=usd(MAX_UNIT_PRICE))
    priced = price_order([big], "USD")
    assert priced.totals.total == usd(4 * MAX_UNIT_PRICE)  # within bounds: accepted
    huge = LineSpec(sku=Sku("BIG-1"), name="Big", quantity=MAX_QUANTITY, unit_price=usd(10**8))
    with pytest.raises(OutOfBoundsError) as refused:
        price_order([huge], "USD")
    assert refused.value.field == "lines[0].line_total"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(price=st.integers(0, MAX_UNIT_PRICE), quantity=st.integers(1, 1000))
async def test_no_accepted_order_has_a_total_above_the_maximum(price: int, quantity: int) -> None:
    shop = Shop()
    await shop.product("BIG-1", price=price, stock=1000)
    try:
        order = await shop.place(("BIG-1", quantity), shipping_method="standard")
    except (OutOfBoundsError, PricingError, InvalidValueError):
        assert price * quantity > MAX_LINE_TOTAL or price * quantity > MAX_ORDER_TOTAL - 10**4
        assert not [e for e in await shop.events() if e.type.endswith("Order.Placed")]
        return
    assert order.totals.total.amount <= MAX_ORDER_TOTAL


def test_money_itself_stays_unbounded_for_arithmetic() -> None:
    # the bounds are rules of commands, not of the value: sums in reports may exceed them
    assert Money(MAX_ORDER_TOTAL, "USD") + Money(MAX_ORDER_TOTAL, "USD") == usd(2 * MAX_ORDER_TOTAL)


async def test_capture_and_refund_amounts_above_the_maximum_are_refused_recording_nothing() -> None:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    order = await shop.place(("MUG-1", 1))
    authorized = await shop.authorize(order.id)
    payment_id = authorized.payment.id
    before = len(await shop.events())

    with pytest.raises(OutOfBoundsError) as capture:
        await shop.capture(payment_id, MAX_AMOUNT + 1)
    assert capture.value.field == "amount"
    assert len(await shop.events()) == before

    await shop.capture(payment_id)
    captured = len(await shop.events())
    with pytest.raises(OutOfBoundsError):
        await shop.refund_payment(payment_id, 2**70)
    with pytest.raises(OutOfBoundsError):
        await shop.refund_order(order.id, MAX_AMOUNT + 1)
    assert len(await shop.events()) == captured
