"""Pricing a method for a basket: thresholds, limits, unknown weight, carrier rates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.fulfilment.pricing import Basket, offer, refusal
from commerce_core.fulfilment.zones import MethodSpec
from commerce_core.shared.money import Money

USD = "USD"


def basket(subtotal: int, weight: int | None = 1000) -> Basket:
    return Basket(subtotal=Money(subtotal, USD), weight_grams=weight)


@given(
    threshold=st.integers(0, 10**9),
    subtotal=st.integers(0, 10**9),
    price=st.integers(0, 10**6),
)
def test_a_basket_at_or_over_free_over_ships_free_and_under_it_pays(
    threshold: int, subtotal: int, price: int
) -> None:
    method = MethodSpec(
        code="std", name="Std", price=Money(price, USD), free_over=Money(threshold, USD)
    )
    assert refusal(method, basket(subtotal)) is None
    charged = offer(method, basket(subtotal)).price
    assert charged == (Money(0, USD) if subtotal >= threshold else Money(price, USD))


@given(rate=st.integers(0, 10**6), fee=st.integers(0, 10**6))
def test_a_carrier_priced_method_costs_the_rate_plus_the_handling_fee(rate: int, fee: int) -> None:
    method = MethodSpec(
        code="g", name="G", carrier="fake", service="standard", handling_fee=Money(fee, USD)
    )
    assert offer(method, basket(100), Money(rate, USD), 4).price == Money(rate + fee, USD)
    assert offer(method, basket(100), Money(rate, USD), 4).delivery_days == (4, 4)


def test_min_subtotal_and_max_weight_filter_methods() -> None:
    method = MethodSpec(
        code="std",
        name="Std",
        price=Money(599, USD),
        min_subtotal=Money(2000, USD),
        max_weight_grams=5000,
    )
    assert refusal(method, basket(2000, 5000)) is None
    assert "at least" in (refusal(method, basket(1999, 10)) or "")
    assert "at most 5000 g" in (refusal(method, basket(2000, 5001)) or "")


def test_unknown_weight_keeps_only_unlimited_zone_priced_methods() -> None:
    flat = MethodSpec(code="flat", name="Flat", price=Money(599, USD))
    limited = MethodSpec(code="lim", name="Lim", price=Money(599, USD), max_weight_grams=10)
    rated = MethodSpec(code="g", name="G", carrier="fake", service="standard")
    unknown = basket(100, None)
    assert refusal(flat, unknown) is None
    assert "weight_grams" in (refusal(limited, unknown) or "")
    assert "weight_grams" in (refusal(rated, unknown) or "")


def test_a_method_in_another_currency_is_not_offered() -> None:
    euros = MethodSpec(code="eu", name="EU", price=Money(500, "EUR"))
    assert "EUR" in (refusal(euros, basket(100)) or "")


def test_a_carrier_priced_method_needs_a_rate_in_the_basket_currency() -> None:
    rated = MethodSpec(code="g", name="G", carrier="fake", service="standard")
    with pytest.raises(ValueError, match="rate"):
        offer(rated, basket(100), Money(100, "EUR"))
