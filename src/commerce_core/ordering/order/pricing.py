"""Pricing an order: pure functions from catalog prices, discounts and shipping to totals.

The rules, in the order they apply:

1. ``line_total = unit_price * quantity`` (unit prices come from the catalog).
2. A line's own discount (a percentage in basis points, or a fixed amount)
   comes off its ``line_total``, never below zero.
3. Order discounts apply one after another, each to what is left of the
   order after line discounts and the order discounts before it, never below
   zero. Their sum is allocated across the lines in proportion to what is
   left of each line (``Money.allocate``), so no cent is lost or invented and
   each line knows its own discount.
4. Tax is per line, ``(line_total - discount) * tax_rate_bps / 10,000``
   rounded half to even, so the tax of a refunded line is known exactly.
5. Shipping is a price the caller chooses (``shipping.shipping_price``); it is
   not taxed or discounted.
6. ``total = subtotal - discount + tax + shipping``.

Every amount is bounded (``commerce_core.shared.bounds``): a unit price, a line
total, shipping, a fixed discount, the subtotal and the total; beyond a bound the
order is refused with ``OutOfBoundsError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from commerce_core.ordering.order.errors import PricingError
from commerce_core.ordering.order.values import OrderLine, OrderTotals
from commerce_core.shared.bounds import (
    MAX_AMOUNT,
    MAX_LINE_TOTAL,
    MAX_ORDER_TOTAL,
    MAX_QUANTITY,
    MAX_UNIT_PRICE,
    check_at_most,
)
from commerce_core.shared.errors import CurrencyMismatchError
from commerce_core.shared.money import Money, check_currency
from commerce_core.shared.values import Sku, parse_quantity, parse_sku

MAX_BPS = 10_000
MAX_LINES = 500


def _check_bps(what: str, bps: int) -> None:
    if isinstance(bps, bool) or not isinstance(bps, int) or not 0 <= bps <= MAX_BPS:
        raise PricingError(f"{what} is 0 to {MAX_BPS} basis points, not {bps!r}")


class Discount(msgspec.Struct, frozen=True, kw_only=True):
    """A percentage off (``bps``: 1,000 = 10 %) or a fixed ``amount`` off; exactly one."""

    bps: int | None = None
    amount: Money | None = None
    code: str | None = None

    def __post_init__(self) -> None:
        if (self.bps is None) == (self.amount is None):
            raise PricingError("a discount is either a percentage (bps) or a fixed amount")
        if self.bps is not None:
            _check_bps("a discount", self.bps)
        if self.amount is not None and self.amount.is_negative:
            raise PricingError("a fixed discount cannot be negative")

    @classmethod
    def percent(cls, bps: int, code: str | None = None) -> Discount:
        return cls(bps=bps, code=code)

    @classmethod
    def fixed(cls, amount: Money, code: str | None = None) -> Discount:
        return cls(amount=amount, code=code)

    def off(self, base: Money) -> Money:
        """How much comes off ``base``: never more than ``base`` itself."""
        zero = Money.zero(base.currency)
        if self.bps is not None:
            return base.bps(self.bps).min(base).max(zero)
        return (self.amount or zero).min(base).max(zero)


class LineSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A line to price: what the customer asked for and what the catalog says about it."""

    sku: Sku
    name: str
    quantity: int
    unit_price: Money
    tax_rate_bps: int = 0
    discount: Discount | None = None

    def __post_init__(self) -> None:
        parse_sku(self.sku)
        parse_quantity(self.quantity)
        if not self.name.strip():
            raise PricingError(f"line {self.sku} needs a name")
        if self.unit_price.is_negative:
            raise PricingError(f"line {self.sku} has a negative unit price")
        _check_bps(f"the tax rate of {self.sku}", self.tax_rate_bps)


class PricedOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Priced lines and totals, ready for ``Order.place``; ``discounts`` are the order's own."""

    lines: list[OrderLine]
    totals: OrderTotals
    discounts: list[Discount] = msgspec.field(default_factory=list)


def _check_lines(lines: Sequence[LineSpec], currency: str) -> None:
    if not lines:
        raise PricingError("an order needs at least one line")
    if len(lines) > MAX_LINES:
        raise PricingError(f"an order has at most {MAX_LINES} lines")
    skus = [line.sku for line in lines]
    if len(set(skus)) != len(skus):
        raise PricingError("each SKU may appear on one line only")
    for line in lines:
        if line.unit_price.currency != currency:
            raise PricingError(f"line {line.sku} is priced in {line.unit_price.currency}")
        if line.discount and line.discount.amount and line.discount.amount.currency != currency:
            raise PricingError(f"the discount of line {line.sku} is not in {currency}")


def price_order(
    lines: Sequence[LineSpec],
    currency: str,
    *,
    discounts: Sequence[Discount] = (),
    shipping: Money | None = None,
) -> PricedOrder:
    """Prices the lines in ``currency``; raises ``PricingError`` for what cannot be priced."""
    check_currency(currency)
    _check_lines(lines, currency)
    zero = Money.zero(currency)
    shipping = shipping if shipping is not None else zero
    if shipping.currency != currency or shipping.is_negative:
        raise PricingError(f"shipping must be a non-negative amount in {currency}")
    for each in discounts:
        if each.amount is not None and each.amount.currency != currency:
            raise PricingError(f"an order discount is not in {currency}")
    _check_inputs_bounded(lines, discounts, shipping)

    gross = [line.unit_price * line.quantity for line in lines]
    own = [
        line.discount.off(g) if line.discount else zero
        for line, g in zip(lines, gross, strict=True)
    ]
    net = [g - d for g, d in zip(gross, own, strict=True)]
    left = sum(net, zero)
    order_discount = zero
    for each in discounts:
        order_discount += each.off(left - order_discount)
    shares = order_discount.allocate([n.amount for n in net])

    priced = [
        OrderLine(
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=g,
            discount=d + share,
            tax=(n - share).bps(line.tax_rate_bps),
            tax_rate_bps=line.tax_rate_bps,
        )
        for line, g, d, n, share in zip(lines, gross, own, net, shares, strict=True)
    ]
    subtotal = sum((p.line_total for p in priced), zero)
    discount = sum((p.discount for p in priced), zero)
    tax = sum((p.tax for p in priced), zero)
    totals = OrderTotals(
        subtotal=subtotal,
        discount=discount,
        tax=tax,
        shipping=shipping,
        total=subtotal - discount + tax + shipping,
    )
    check_totals_bounded(priced, totals)
    return PricedOrder(lines=priced, totals=totals, discounts=list(discounts))


def _check_inputs_bounded(
    lines: Sequence[LineSpec], discounts: Sequence[Discount], shipping: Money
) -> None:
    for n, line in enumerate(lines):
        check_at_most(f"lines[{n}].unit_price", line.unit_price.amount, MAX_UNIT_PRICE)
        if line.discount is not None and line.discount.amount is not None:
            check_at_most(f"lines[{n}].discount", line.discount.amount.amount, MAX_AMOUNT)
    for n, each in enumerate(discounts):
        if each.amount is not None:
            check_at_most(f"discounts[{n}].amount", each.amount.amount, MAX_AMOUNT)
    check_at_most("shipping", shipping.amount, MAX_AMOUNT)


def check_totals_bounded(lines: Sequence[OrderLine], totals: OrderTotals) -> None:
    """``OutOfBoundsError`` if a line total, the tax, the subtotal or the total is too large."""
    for n, line in enumerate(lines):
        check_at_most(f"lines[{n}].quantity", line.quantity, MAX_QUANTITY)
        check_at_most(f"lines[{n}].line_total", line.line_total.amount, MAX_LINE_TOTAL)
    check_at_most("shipping", totals.shipping.amount, MAX_AMOUNT)
    check_at_most("discount", totals.discount.amount, MAX_ORDER_TOTAL)
    check_at_most("tax", totals.tax.amount, MAX_ORDER_TOTAL)
    check_at_most("subtotal", totals.subtotal.amount, MAX_ORDER_TOTAL)
    check_at_most("total", totals.total.amount, MAX_ORDER_TOTAL)


def check_priced(lines: Sequence[OrderLine], totals: OrderTotals) -> None:
    """Refuses lines and totals that do not add up (``Order.place`` takes them from outside)."""
    if not lines:
        raise PricingError("an order needs at least one line")
    zero = Money.zero(totals.total.currency)
    try:
        for line in lines:
            discount_ok = zero <= line.discount <= line.line_total
            if line.line_total != line.unit_price * line.quantity or not discount_ok:
                raise PricingError(f"line {line.sku} does not add up")
        sums = (
            sum((line.line_total for line in lines), zero),
            sum((line.discount for line in lines), zero),
            sum((line.tax for line in lines), zero),
        )
        expected = totals.subtotal - totals.discount + totals.tax + totals.shipping
    except CurrencyMismatchError as error:
        raise PricingError(str(error)) from error
    if sums != (totals.subtotal, totals.discount, totals.tax) or totals.total != expected:
        raise PricingError("order totals do not add up to its lines")
    if totals.shipping.is_negative or totals.total.is_negative:
        raise PricingError("order totals cannot be negative")
    check_totals_bounded(lines, totals)
