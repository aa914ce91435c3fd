"""The values an order is made of: priced lines, totals, channel, status history entries.

These travel inside events, so they do not validate on decode: a rule tightened
later must not make old events unreadable. ``pricing`` checks what goes in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from commerce_core.ordering.order.states import OrderStatus
from commerce_core.shared.money import Money
from commerce_core.shared.values import Sku


class Channel(StrEnum):
    """Where the order was placed: web shop, point of sale, Google Business Profile, API."""

    WEB = "web"
    POS = "pos"
    GBP = "gbp"
    API = "api"


class DisputeOutcome(StrEnum):
    WON = "won"
    LOST = "lost"


class OrderLine(msgspec.Struct, frozen=True, kw_only=True):
    """A priced line.

    ``line_total`` is ``unit_price * quantity`` before discounts; ``discount`` is
    the line's own discount plus its share of the order's discounts; ``tax`` is
    charged on ``line_total - discount``. So ``total = line_total - discount + tax``.
    """

    sku: Sku
    name: str
    quantity: int
    unit_price: Money
    line_total: Money
    discount: Money
    tax: Money
    tax_rate_bps: int

    @property
    def total(self) -> Money:
        return self.line_total - self.discount + self.tax


class OrderTotals(msgspec.Struct, frozen=True, kw_only=True):
    """``total = subtotal - discount + tax + shipping``; each sums the lines' amounts."""

    subtotal: Money
    discount: Money
    tax: Money
    shipping: Money
    total: Money


class StatusChange(msgspec.Struct, frozen=True):
    """One entry of an order's status history (``GET /orders/{id}``)."""

    status: OrderStatus
    at: datetime
    actor: str
    reason: str | None = None
