"""An order's shipping, from a quote or a zone method (the ``ShippingPrices`` port).

- ``shipping_quote_id``: the quote's price, once the quote is checked against the
  order: the tenant's, not expired, the same lines and subtotal, the same address
  (its blind index) and, if the order names a method too, the same method. A quote
  of another tenant reads as one that does not exist.
- ``shipping_method`` without a quote: a method of the address's zone, priced as a
  quote would be at that moment (the carrier asked again for a carrier-priced one).
- Neither: nothing to ship, nothing to pay (as before zones).
- A tenant that defined no zones keeps the flat table of ``ordering.order.shipping``
  (``price`` answers ``None``), so its clients see no change (ADR 0029).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from commerce_core.catalog.services import products_for
from commerce_core.eventstore import Repository
from commerce_core.fulfilment.ports import CarrierDirectory
from commerce_core.fulfilment.quote import QuoteProblem, QuoteRefusedError, ShippingQuote
from commerce_core.fulfilment.quoting import (
    TenantCarriers,
    address_index,
    basket_of,
    where,
    zone_offers,
)
from commerce_core.fulfilment.zone_book import ShippingZones
from commerce_core.fulfilment.zone_services import tenant_zones
from commerce_core.fulfilment.zones import zone_for
from commerce_core.ordering.ports.shipping_prices import ShippingAsk, ShippingChoice
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.loading import find_owned
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.ports.keyring import Keyring


@dataclass(frozen=True, kw_only=True)
class ZoneShippingPrices:
    """Satisfies ``ShippingPrices`` from the tenant's zones and quotes."""

    repo: Repository
    clock: Clock
    keyring: Keyring
    carriers: CarrierDirectory

    async def price(self, tenant_id: str, ask: ShippingAsk) -> ShippingChoice | None:
        if ask.quote_id is not None:
            return await self._quoted(tenant_id, ask)
        zones = await tenant_zones(self.repo, tenant_id)
        if not zones:
            return None
        if ask.method is None:
            return ShippingChoice(method=None, price=Money.zero(ask.currency))
        if ask.address is None:
            raise InvalidValueError("a shipping_method needs a shipping_address")
        zone = where(zone_for(zones, ask.address), ask.address)
        method = zone.method(ask.method)
        if method is None:
            codes = ", ".join(m.code for m in zone.methods)
            raise InvalidValueError(
                f"zone {zone.code} has no shipping method {ask.method!r}; one of: {codes}"
            )
        products = await products_for(self.repo, tenant_id, [line.sku for line in ask.lines])
        basket = basket_of(products, ask.lines, ask.subtotal)
        carriers = TenantCarriers(self.carriers, tenant_id)
        [chosen] = await zone_offers(carriers, zone, ask.address, basket, only=method)
        return ShippingChoice(method=method.code, price=chosen.price)

    def streams(self, tenant_id: str, quote_id: UUID | None) -> list[UUID]:
        return [quote_id] if quote_id is not None else [ShippingZones.id_for(tenant_id)]

    def reading(self, repo: Repository) -> ZoneShippingPrices:
        return replace(self, repo=repo)

    async def _quoted(self, tenant_id: str, ask: ShippingAsk) -> ShippingChoice:
        assert ask.quote_id is not None
        quote = await find_owned(self.repo, tenant_id, ask.quote_id, ShippingQuote)
        if quote is None:
            raise QuoteRefusedError(
                QuoteProblem.NOT_FOUND, f"no shipping quote {ask.quote_id} for this shop"
            )
        index = None
        if ask.address is not None:
            index = await address_index(self.keyring, tenant_id, ask.address)
        quote.check_usable(
            lines=ask.lines,
            subtotal=ask.subtotal,
            address_index=index,
            method=ask.method,
            now=self.clock.now(),
        )
        return ShippingChoice(method=quote.method, price=quote.price)
