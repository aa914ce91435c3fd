"""A shipping quote: a price promised for one basket, to one address, for a while.

The quote keeps what the order must match: the lines (SKU and quantity), the currency,
the subtotal the catalog gave them (a price change makes it another basket), and a
blind index of the address (a keyed hash under the tenant's key: the quote stores no
personal data, yet tells whether an order ships to the same address).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import SkuQuantity

QUOTE_LIFETIME = timedelta(minutes=30)


class QuoteProblem(StrEnum):
    NOT_FOUND = "not_found"
    EXPIRED = "expired"
    OTHER_BASKET = "other_basket"
    OTHER_ADDRESS = "other_address"
    OTHER_METHOD = "other_method"


class QuoteRefusedError(InvalidValueError):
    """An order names a quote it may not use; ``reason`` says why."""

    def __init__(self, reason: QuoteProblem, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def basket_key(lines: Sequence[SkuQuantity]) -> list[tuple[str, int]]:
    """The lines as a quote compares them: order does not matter."""
    return sorted((line.sku, line.quantity) for line in lines)


class ShippingQuote(Aggregate):
    """One method's price for one basket and address, until ``expires_at``."""

    tenant_id: str
    zone: str
    method: str
    name: str
    carrier: str | None
    service: str | None
    price: Money
    delivery_days: tuple[int, int] | None
    lines: list[tuple[str, int]]
    subtotal: Money
    address_index: str
    created_at: datetime
    expires_at: datetime

    @event("Offered")
    def __init__(
        self,
        id: UUID,
        tenant_id: str,
        zone: str,
        method: str,
        name: str,
        carrier: str | None,
        service: str | None,
        price: Money,
        delivery_days: tuple[int, int] | None,
        lines: list[tuple[str, int]],
        subtotal: Money,
        address_index: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.zone = zone
        self.method = method
        self.name = name
        self.carrier = carrier
        self.service = service
        self.price = price
        self.delivery_days = delivery_days
        self.lines = lines
        self.subtotal = subtotal
        self.address_index = address_index
        self.created_at = created_at
        self.expires_at = expires_at

    def check_usable(
        self,
        *,
        lines: Sequence[SkuQuantity],
        subtotal: Money,
        address_index: str | None,
        method: str | None,
        now: datetime,
    ) -> None:
        """``QuoteRefusedError`` unless an order of these lines, at this subtotal, to
        this address (``None``: none given), by ``method`` (``None``: any), placed at
        ``now`` may take this quote's price."""
        if now >= self.expires_at:
            raise QuoteRefusedError(
                QuoteProblem.EXPIRED,
                f"shipping quote {self.id} expired at {self.expires_at.isoformat()}: ask again",
            )
        if basket_key(lines) != [tuple(line) for line in self.lines]:
            raise QuoteRefusedError(
                QuoteProblem.OTHER_BASKET,
                f"shipping quote {self.id} is for other lines (SKUs and quantities)",
            )
        if subtotal != self.subtotal:
            raise QuoteRefusedError(
                QuoteProblem.OTHER_BASKET,
                f"shipping quote {self.id} was for a subtotal of {self.subtotal}, "
                f"the order's is {subtotal} (prices or currency changed): ask again",
            )
        if address_index != self.address_index:
            raise QuoteRefusedError(
                QuoteProblem.OTHER_ADDRESS,
                f"shipping quote {self.id} is for another shipping_address",
            )
        if method is not None and method != self.method:
            raise QuoteRefusedError(
                QuoteProblem.OTHER_METHOD,
                f"shipping quote {self.id} is for method {self.method!r}, not {method!r}",
            )
