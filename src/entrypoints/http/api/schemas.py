"""Shapes shared by several resources (API.md conventions)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.openapi.spec import Example
from litestar.params import PathParameter

from commerce_core.shared.bounds import MAX_AMOUNT, MAX_QUANTITY, MAX_UNIT_PRICE
from commerce_core.shared.money import Money
from commerce_core.shared.values import SKU_PATTERN

Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", examples=["USD"])]
Price = Annotated[
    int,
    msgspec.Meta(ge=0, le=MAX_UNIT_PRICE, description="integer minor units (cents), at most 10^11"),
]
PositiveAmount = Annotated[
    int,
    msgspec.Meta(gt=0, le=MAX_AMOUNT, description="integer minor units (cents), at most 10^13"),
]
PositiveQuantity = Annotated[int, msgspec.Meta(gt=0, le=MAX_QUANTITY)]
SkuPath = Annotated[str, PathParameter(pattern=SKU_PATTERN, examples=[Example(value="MUG-1")])]
"""A SKU in a path: the one rule of ``parse_sku`` that orders, stock and the catalog share.
(Litestar ignores a ``msgspec.Meta`` on a path parameter: the pattern must be the
parameter's own.)"""


class MoneyIn(msgspec.Struct, forbid_unknown_fields=True):
    """A price: the bounds are ``commerce_core.shared.bounds``."""

    amount: Price
    currency: Currency

    def to_money(self) -> Money:
        return Money(self.amount, self.currency)


class MoneyOut(msgspec.Struct):
    amount: int
    currency: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(money.amount, money.currency)
