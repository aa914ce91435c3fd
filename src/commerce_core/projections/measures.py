"""Derived figures of the dashboards: averages of money and ratios."""

from __future__ import annotations

from commerce_core.shared.money import round_half_even


def average(total: int, count: int) -> int:
    """``total / count`` in minor units, rounded half to even (as all money here); 0 if none."""
    return round_half_even(total, count) if count else 0


def rate(part: int, whole: int) -> float:
    """A ratio rounded to 4 decimals (it is not money, so a float is fine); 0.0 if none."""
    return round(part / whole, 4) if whole else 0.0
