"""Money: exact integer arithmetic in one currency."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.shared.errors import CurrencyMismatchError, InvalidValueError
from commerce_core.shared.money import Money, round_half_even

amounts = st.integers(min_value=-(10**12), max_value=10**12)


def test_adds_and_subtracts_within_one_currency() -> None:
    assert Money(150, "USD") + Money(75, "USD") == Money(225, "USD")
    assert Money(150, "USD") - Money(200, "USD") == Money(-50, "USD")
    assert Money(150, "USD") * 3 == Money(450, "USD")


def test_refuses_to_mix_currencies() -> None:
    with pytest.raises(CurrencyMismatchError):
        _ = Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(CurrencyMismatchError):
        _ = Money(1, "USD") < Money(1, "EUR")


@pytest.mark.parametrize(
    ("amount", "currency"), [(1.5, "USD"), (True, "USD"), (1, "XXX"), (1, "usd")]
)
def test_refuses_floats_and_unknown_currencies(amount: object, currency: str) -> None:
    with pytest.raises(InvalidValueError):
        Money(amount, currency)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (1000, 825, 82),
        (1001, 825, 83),
        (50, 1000, 5),
        (25, 2000, 5),
        (15, 5000, 8),
        (25, 5000, 12),
        (-15, 5000, -8),
    ],
)
def test_basis_points_round_half_to_even(amount: int, bps: int, expected: int) -> None:
    assert Money(amount, "USD").bps(bps) == Money(expected, "USD")


@given(amounts, st.integers(min_value=1, max_value=10**6))
def test_half_even_rounding_is_within_half_a_unit(numerator: int, denominator: int) -> None:
    rounded = round_half_even(numerator, denominator)
    assert abs(rounded * denominator - numerator) * 2 <= denominator


@given(amounts, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20))
def test_allocation_loses_no_cent(amount: int, weights: list[int]) -> None:
    parts = Money(amount, "EUR").allocate(weights)
    assert len(parts) == len(weights)
    if sum(weights) == 0:
        assert all(p.is_zero for p in parts)
        return
    assert sum(p.amount for p in parts) == amount
    for part, weight in zip(parts, weights, strict=True):
        exact = amount * weight / sum(weights)
        assert abs(part.amount - exact) < 1 + 1e-9 * abs(amount)


def test_allocation_gives_the_remainder_to_the_largest_fractions() -> None:
    assert [p.amount for p in Money(100, "USD").allocate([1, 1, 1])] == [34, 33, 33]
    assert [p.amount for p in Money(5, "USD").allocate([3, 7])] == [2, 3]
    assert [p.amount for p in Money(10, "USD").allocate([1, 2])] == [3, 7]


def test_prints_in_major_units() -> None:
    assert str(Money(123456, "USD")) == "1234.56 USD"
    assert str(Money(-5, "EUR")) == "-0.05 EUR"
    assert str(Money(500, "JPY")) == "500 JPY"
