"""Pricing: examples, refusals, and properties that hold for any lines and discounts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_core.ordering.order import (
    SHIPPING_METHODS,
    Discount,
    LineSpec,
    PricedOrder,
    PricingError,
    price_order,
    shipping_price,
)
from commerce_core.ordering.order.pricing import check_priced
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money, round_half_even
from commerce_core.shared.values import Sku


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def line(
    sku: str, quantity: int, unit: int, tax: int = 0, discount: Discount | None = None
) -> LineSpec:
    return LineSpec(
        sku=Sku(sku),
        name=sku.title(),
        quantity=quantity,
        unit_price=usd(unit),
        tax_rate_bps=tax,
        discount=discount,
    )


# -- examples ----------------------------------------------------------------------------


def test_lines_are_priced_taxed_and_added_up_with_shipping() -> None:
    priced = price_order(
        [line("A", 3, 333, tax=825), line("B", 1, 1000, tax=0)], "USD", shipping=usd(599)
    )

    a, b = priced.lines
    assert (a.line_total, a.discount, a.tax) == (usd(999), usd(0), usd(82))  # 82.4175
    assert (b.line_total, b.tax) == (usd(1000), usd(0))
    t = priced.totals
    assert (t.subtotal, t.discount, t.tax, t.shipping, t.total) == (
        usd(1999),
        usd(0),
        usd(82),
        usd(599),
        usd(2680),
    )


def test_tax_rounds_half_to_even_per_line() -> None:
    # 250 * 10 % = 25.0; 125 * 10 % = 12.5 -> 12; 135 * 10 % = 13.5 -> 14
    priced = price_order([line("A", 1, 125, tax=1000), line("B", 1, 135, tax=1000)], "USD")

    assert [p.tax for p in priced.lines] == [usd(12), usd(14)]


def test_a_line_discount_comes_off_that_line_before_tax() -> None:
    priced = price_order(
        [line("A", 2, 1000, tax=1000, discount=Discount.percent(2500)), line("B", 1, 500)], "USD"
    )

    a, b = priced.lines
    assert (a.discount, a.tax, a.total) == (usd(500), usd(150), usd(1650))
    assert b.discount == usd(0)
    assert priced.totals.total == usd(2150)


def test_an_order_discount_is_shared_across_lines_in_proportion_and_taxed_per_line() -> None:
    priced = price_order(
        [line("A", 1, 3000, tax=2000), line("B", 1, 1000, tax=0)],
        "USD",
        discounts=[Discount.fixed(usd(1000), code="TENOFF")],
    )

    a, b = priced.lines
    assert (a.discount, b.discount) == (usd(750), usd(250))
    assert (a.tax, b.tax) == (usd(450), usd(0))
    assert priced.totals.discount == usd(1000)
    assert priced.totals.total == usd(3450)
    assert priced.discounts == [Discount.fixed(usd(1000), code="TENOFF")]


def test_order_discounts_apply_one_after_another_to_what_is_left() -> None:
    priced = price_order(
        [line("A", 1, 10000)], "USD", discounts=[Discount.percent(1000), Discount.percent(1000)]
    )

    assert priced.totals.discount == usd(1900)


def test_a_discount_larger_than_the_order_makes_it_free_but_not_negative() -> None:
    priced = price_order(
        [line("A", 1, 500, tax=2000, discount=Discount.fixed(usd(800)))],
        "USD",
        discounts=[Discount.fixed(usd(10_000))],
        shipping=usd(300),
    )

    assert priced.lines[0].discount == usd(500)
    assert (priced.totals.tax, priced.totals.total) == (usd(0), usd(300))


def test_currencies_without_minor_units_are_priced_in_whole_units() -> None:
    priced = price_order(
        [
            LineSpec(
                sku=Sku("A"), name="A", quantity=3, unit_price=Money(105, "JPY"), tax_rate_bps=1000
            )
        ],
        "JPY",
    )

    # 315 yen at 10 % is 31.5 yen of tax: half to even gives 32
    assert priced.lines[0].tax == Money(32, "JPY")
    assert priced.totals.total == Money(347, "JPY")


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: price_order([], "USD"),
        lambda: price_order([line("A", 1, 100), line("A", 2, 100)], "USD"),
        lambda: price_order([line("A", 1, 100)], "EUR"),
        lambda: price_order([line("A", 1, 100)], "USD", shipping=usd(-1)),
        lambda: price_order([line("A", 1, 100)], "USD", shipping=Money(1, "EUR")),
        lambda: price_order(
            [line("A", 1, 100)], "USD", discounts=[Discount.fixed(Money(1, "EUR"))]
        ),
        lambda: price_order([line("A", 1, 100)], "XXX"),
        lambda: line("A", 1, 100, tax=10_001),
        lambda: line("A", 1, -1),
        lambda: line("A", 0, 100),
        lambda: line("not a sku", 1, 100),
        lambda: LineSpec(sku=Sku("A"), name=" ", quantity=1, unit_price=usd(1)),
        lambda: Discount(),
        lambda: Discount(bps=100, amount=usd(1)),
        lambda: Discount.percent(-1),
        lambda: Discount.percent(10_001),
        lambda: Discount.fixed(usd(-1)),
    ],
    ids=[
        "no-lines",
        "sku-twice",
        "line-currency",
        "negative-shipping",
        "shipping-currency",
        "discount-currency",
        "unknown-currency",
        "tax-over-100-percent",
        "negative-price",
        "zero-quantity",
        "bad-sku",
        "blank-name",
        "empty-discount",
        "both-discounts",
        "negative-percent",
        "over-100-percent",
        "negative-fixed",
    ],
)
def test_what_cannot_be_priced_is_refused(build: object) -> None:
    with pytest.raises(InvalidValueError):
        build()  # type: ignore[operator]


def test_pricing_errors_are_invalid_values() -> None:
    assert issubclass(PricingError, InvalidValueError)


# -- shipping methods --------------------------------------------------------------------


def test_shipping_is_priced_from_the_method_table() -> None:
    assert shipping_price("standard", "USD") == usd(599)
    assert shipping_price("express", "JPY") == Money(2000, "JPY")
    assert shipping_price("pickup", "SEK") == Money(0, "SEK")
    assert shipping_price(None, "EUR") == Money(0, "EUR")
    assert set(SHIPPING_METHODS) == {"standard", "express", "pickup"}


@pytest.mark.parametrize(("method", "currency"), [("teleport", "USD"), ("standard", "SEK")])
def test_unknown_methods_and_currencies_they_are_not_offered_in_are_refused(
    method: str, currency: str
) -> None:
    with pytest.raises(PricingError):
        shipping_price(method, currency)


# -- properties --------------------------------------------------------------------------

discounts = st.one_of(
    st.builds(Discount.percent, st.integers(0, 10_000)),
    st.builds(Discount.fixed, st.builds(usd, st.integers(0, 50_000))),
)


@st.composite
def orders(draw: st.DrawFn) -> tuple[list[LineSpec], list[Discount], Money]:
    count = draw(st.integers(1, 6))
    lines = [
        line(
            f"SKU-{n}",
            draw(st.integers(1, 20)),
            draw(st.integers(0, 100_000)),
            tax=draw(st.integers(0, 10_000)),
            discount=draw(st.none() | discounts),
        )
        for n in range(count)
    ]
    return lines, draw(st.lists(discounts, max_size=3)), usd(draw(st.integers(0, 5_000)))


def priced_from(order: tuple[list[LineSpec], list[Discount], Money]) -> PricedOrder:
    lines, order_discounts, shipping = order
    return price_order(lines, "USD", discounts=order_discounts, shipping=shipping)


@settings(max_examples=300)
@given(orders())
def test_totals_add_up_to_the_lines(order: tuple[list[LineSpec], list[Discount], Money]) -> None:
    priced = priced_from(order)
    t = priced.totals

    assert t.subtotal == sum((p.line_total for p in priced.lines), usd(0))
    assert t.discount == sum((p.discount for p in priced.lines), usd(0))
    assert t.tax == sum((p.tax for p in priced.lines), usd(0))
    assert t.total == t.subtotal - t.discount + t.tax + t.shipping
    check_priced(priced.lines, t)


@settings(max_examples=300)
@given(orders())
def test_order_discounts_are_allocated_without_losing_a_cent(
    order: tuple[list[LineSpec], list[Discount], Money],
) -> None:
    lines, order_discounts, _ = order
    priced = priced_from(order)
    own = [
        spec.discount.off(spec.unit_price * spec.quantity) if spec.discount else usd(0)
        for spec in lines
    ]
    left = sum(((p.line_total - d) for p, d in zip(priced.lines, own, strict=True)), usd(0))
    expected = usd(0)
    for discount in order_discounts:
        expected += discount.off(left - expected)

    allocated = [p.discount - d for p, d in zip(priced.lines, own, strict=True)]

    assert sum(allocated, usd(0)) == expected
    assert all(not share.is_negative for share in allocated)


@settings(max_examples=300)
@given(orders())
def test_discounts_never_push_a_line_or_the_order_below_zero(
    order: tuple[list[LineSpec], list[Discount], Money],
) -> None:
    priced = priced_from(order)

    for p in priced.lines:
        assert usd(0) <= p.discount <= p.line_total
        assert not p.tax.is_negative
        assert p.tax == Money(
            round_half_even((p.line_total - p.discount).amount * p.tax_rate_bps, 10_000), "USD"
        )
    assert priced.totals.total >= priced.totals.shipping >= usd(0)
