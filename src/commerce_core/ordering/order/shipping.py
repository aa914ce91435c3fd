"""Shipping methods an order can choose, with a flat price per currency.

A small default table (``standard``, ``express``, ``pickup``); a tenant's own
table can be passed instead. Carrier rates for the label are a separate thing
(``ports.carrier``): this is what the customer pays.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from commerce_core.ordering.order.errors import PricingError
from commerce_core.shared.money import Money


class ShippingMethod(msgspec.Struct, frozen=True, kw_only=True):
    """A method's price in minor units per currency; ``free`` methods cost nothing anywhere."""

    code: str
    name: str
    prices: dict[str, int] = msgspec.field(default_factory=dict)
    free: bool = False

    def price(self, currency: str) -> Money:
        if self.free:
            return Money.zero(currency)
        if currency not in self.prices:
            raise PricingError(f"shipping method {self.code!r} is not offered in {currency}")
        return Money(self.prices[currency], currency)


SHIPPING_METHODS: dict[str, ShippingMethod] = {
    method.code: method
    for method in (
        ShippingMethod(
            code="standard",
            name="Standard (3-5 days)",
            prices={"USD": 599, "EUR": 599, "GBP": 499, "CAD": 799, "AUD": 899, "JPY": 800},
        ),
        ShippingMethod(
            code="express",
            name="Express (1-2 days)",
            prices={"USD": 1499, "EUR": 1499, "GBP": 1299, "CAD": 1999, "AUD": 2199, "JPY": 2000},
        ),
        ShippingMethod(code="pickup", name="Pick up in store", free=True),
    )
}


def shipping_price(
    method: str | None,
    currency: str,
    methods: Mapping[str, ShippingMethod] = SHIPPING_METHODS,
) -> Money:
    """The price of ``method`` in ``currency``; no method (nothing to ship) costs nothing."""
    if method is None:
        return Money.zero(currency)
    if method not in methods:
        raise PricingError(f"unknown shipping method {method!r}; one of {sorted(methods)}")
    return methods[method].price(currency)
