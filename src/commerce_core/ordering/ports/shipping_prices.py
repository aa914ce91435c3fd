"""The shipping prices port: what an order's shipping costs, decided outside ordering."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.eventstore import Repository
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address, SkuQuantity


class ShippingAsk(msgspec.Struct, frozen=True, kw_only=True):
    """What an order asks of shipping: its lines, currency and subtotal after discounts
    (from the catalog), where it goes, and the method or quote it names."""

    lines: list[SkuQuantity]
    currency: str
    subtotal: Money
    address: Address | None
    method: str | None
    quote_id: UUID | None


class ShippingChoice(msgspec.Struct, frozen=True, kw_only=True):
    """The method the order records and the shipping it pays."""

    method: str | None
    price: Money


class ShippingPrices(Protocol):
    """Prices an order's shipping for ``tenant_id``.

    ``price`` returns ``None`` when the tenant defined no delivery zones and the order
    names no quote: the order then uses the flat table (``order.shipping``). Otherwise
    it returns the choice, or raises a ``DomainError`` that refuses the order (a quote
    it may not use, an address outside every zone, a method the zone does not offer).
    """

    async def price(self, tenant_id: str, ask: ShippingAsk) -> ShippingChoice | None: ...

    def streams(self, tenant_id: str, quote_id: UUID | None) -> list[UUID]:
        """The streams ``price`` reads (besides the products), so that placing an order
        can load them with its other aggregates in one read."""
        ...

    def reading(self, repo: Repository) -> ShippingPrices:
        """The same prices, reading through ``repo`` (a ``Preloaded`` view)."""
        ...
