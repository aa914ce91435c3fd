"""Platform fees: tier rates, fixed fees, tenant overrides, half-even rounding."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.payments.fees import (
    FeeOverride,
    FeeSchedule,
    PlanTier,
    fee_schedule,
    platform_fee,
)
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money


def usd(cents: int) -> Money:
    return Money(cents, "USD")


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("starter", usd(300)), ("professional", usd(150)), (PlanTier.ENTERPRISE, usd(50))],
)
def test_each_tier_charges_its_rate(tier: str, expected: Money) -> None:
    assert platform_fee(usd(10_000), tier) == expected


@pytest.mark.parametrize(
    ("cents", "expected"),
    [
        (50, 2),  # 1.5 -> 2 (ties go to the even neighbour)
        (150, 4),  # 4.5 -> 4
        (250, 8),  # 7.5 -> 8
        (117, 4),  # 3.51 -> 4
        (116, 3),  # 3.48 -> 3
    ],
)
def test_rounds_half_to_even_in_minor_units(cents: int, expected: int) -> None:
    assert platform_fee(usd(cents), "starter") == usd(expected)


def test_a_tenant_override_replaces_the_rate_and_adds_a_fixed_fee() -> None:
    override = FeeOverride(basis_points=100, fixed=30)

    assert platform_fee(usd(10_000), "starter", override) == usd(130)
    assert fee_schedule("starter", override) == FeeSchedule(basis_points=100, fixed=30)


def test_an_override_of_only_the_fixed_fee_keeps_the_tier_rate() -> None:
    assert platform_fee(usd(10_000), "professional", FeeOverride(fixed=25)) == usd(175)


def test_nothing_captured_costs_nothing_and_a_fee_never_exceeds_the_amount() -> None:
    schedule = FeeSchedule(basis_points=300, fixed=30)

    assert schedule.fee_on(usd(0)) == usd(0)
    assert schedule.fee_on(usd(20)) == usd(20)


def test_zero_decimal_currencies_round_to_whole_units() -> None:
    assert platform_fee(Money(1_050, "JPY"), "starter") == Money(32, "JPY")  # 31.5 -> 32


def test_unknown_tiers_and_impossible_rates_are_refused() -> None:
    with pytest.raises(InvalidValueError):
        platform_fee(usd(100), "gold")
    with pytest.raises(InvalidValueError):
        FeeSchedule(basis_points=10_001)
    with pytest.raises(InvalidValueError):
        fee_schedule("starter", FeeOverride(fixed=-1))


@given(
    parts=st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=5),
    basis_points=st.integers(min_value=0, max_value=10_000),
    fixed=st.integers(min_value=0, max_value=500),
)
def test_the_fee_on_a_total_is_between_zero_and_the_total(
    parts: list[int], basis_points: int, fixed: int
) -> None:
    schedule = FeeSchedule(basis_points=basis_points, fixed=fixed)
    total = usd(sum(parts))

    fee = schedule.fee_on(total)

    assert usd(0) <= fee <= total
    exact = Fraction(total.amount * basis_points, 10_000) + fixed
    assert abs(fee.amount - min(exact, Fraction(total.amount))) <= Fraction(1, 2)
