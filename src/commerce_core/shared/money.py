"""Money: integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from commerce_core.shared.errors import CurrencyMismatchError, InvalidValueError

# ISO 4217 codes we accept, with their number of minor-unit digits.
CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "USD",
            "EUR",
            "GBP",
            "CAD",
            "AUD",
            "NZD",
            "CHF",
            "SEK",
            "NOK",
            "DKK",
            "PLN",
            "CZK",
            "HUF",
            "RON",
            "BGN",
            "MXN",
            "BRL",
            "ARS",
            "COP",
            "PEN",
            "ZAR",
            "INR",
            "CNY",
            "HKD",
            "SGD",
            "THB",
            "MYR",
            "PHP",
            "IDR",
            "TWD",
            "ILS",
            "AED",
            "SAR",
            "TRY",
            "EGP",
            "NGN",
            "KES",
            "MAD",
            "UAH",
        ],
        2,
    ),
    **dict.fromkeys(["JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"], 0),
    **dict.fromkeys(["BHD", "KWD", "OMR", "JOD", "TND"], 3),
}


def check_currency(currency: str) -> str:
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidValueError(f"unknown currency {currency!r}")
    return currency


def round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, ties to even (exact)."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


class Money(msgspec.Struct, frozen=True, order=False):
    """An amount in minor units (cents) of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise InvalidValueError("money amounts are integers in minor units")
        check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise InvalidValueError("money is multiplied by integers only")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    def bps(self, basis_points: int) -> Money:
        """This amount times basis_points / 10,000, rounded half to even."""
        return Money(round_half_even(self.amount * basis_points, 10_000), self.currency)

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        return self if self >= other else other

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Splits this amount in proportion to weights; the parts add up exactly.

        Remainders go one minor unit at a time to the parts that lost the most
        to rounding down (largest remainder), earlier parts first on ties.
        """
        if not weights or any(w < 0 for w in weights):
            raise InvalidValueError("allocation weights must be non-negative")
        total = sum(weights)
        if total == 0:
            return [Money(0, self.currency) for _ in weights]
        sign = -1 if self.amount < 0 else 1
        amount = abs(self.amount)
        shares = [divmod(amount * w, total) for w in weights]
        parts = [q for q, _ in shares]
        left = amount - sum(parts)
        by_remainder = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
        for i in by_remainder[:left]:
            parts[i] += 1
        return [Money(sign * p, self.currency) for p in parts]

    def __str__(self) -> str:
        exponent = CURRENCY_EXPONENTS[self.currency]
        sign = "-" if self.amount < 0 else ""
        units, minor = divmod(abs(self.amount), 10**exponent)
        return (
            f"{sign}{units}.{minor:0{exponent}d} {self.currency}"
            if exponent
            else (f"{sign}{units} {self.currency}")
        )
