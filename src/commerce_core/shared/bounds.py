"""The largest amounts and quantities the service accepts (ADR 0017).

Every bound is far inside a signed 64-bit integer, so that sums over many
orders (read models, analytics, payouts) stay exact in PostgreSQL ``bigint``
columns: the largest order total, 10^13 minor units, can be added up almost a
million times before int64 (about 9.2 * 10^18) is reached. Beyond a bound a
command is refused with ``OutOfBoundsError`` naming the field, and records nothing.
"""

from __future__ import annotations

from commerce_core.shared.errors import InvalidValueError

MAX_UNIT_PRICE = 10**11
"""A product's price: 1,000,000,000.00 in a currency with cents (10^11 minor units)."""

MAX_QUANTITY = 1_000_000
"""Units of one SKU in one order line, stock receipt or restock."""

MAX_ON_HAND = 10**12
"""Units of one SKU on hand at one location, however many receipts brought them."""

MAX_LINE_TOTAL = 10**13
"""``unit_price * quantity`` of one order line."""

MAX_ORDER_TOTAL = 10**13
"""An order's subtotal and total: 100,000,000,000.00 in a currency with cents."""

MAX_AMOUNT = MAX_ORDER_TOTAL
"""Any other single amount: shipping, a fixed discount, a payment, capture or refund."""


class OutOfBoundsError(InvalidValueError):
    """A number above its documented maximum; ``field`` names where it was given."""

    def __init__(self, field: str, value: int, maximum: int) -> None:
        super().__init__(f"{field} is at most {maximum}, not {value}")
        self.field = field
        self.maximum = maximum


def check_at_most(field: str, value: int, maximum: int) -> int:
    """The value, or ``OutOfBoundsError`` if it is above ``maximum``."""
    if value > maximum:
        raise OutOfBoundsError(field, value, maximum)
    return value
