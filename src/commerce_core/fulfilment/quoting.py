"""Shipping quotes at checkout: the methods of the address's zone, priced for a basket.

Prices come from the catalog (the basket's subtotal) and the zone (fixed prices,
thresholds), or from the carrier's live rate for a parcel of the basket's weight
(``CarrierDirectory``), never from the client. Each quote is stored, so that an order
naming it is checked server-side (``order_shipping``); it expires after
``QUOTE_LIFETIME``. The tenant's zones, the basket and the carriers' rates are read
before anything is recorded; a refused request records nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import msgspec

from commerce_core.catalog.product import Product
from commerce_core.catalog.services import products_for
from commerce_core.eventstore import Repository
from commerce_core.fulfilment.connections import CarrierNotConnectedError
from commerce_core.fulfilment.ports import (
    Carrier,
    CarrierDirectory,
    CarrierError,
    Parcel,
    Quote,
)
from commerce_core.fulfilment.pricing import Basket, Offer, offer, refusal
from commerce_core.fulfilment.quote import QUOTE_LIFETIME, ShippingQuote, basket_key
from commerce_core.fulfilment.zone_services import tenant_zones
from commerce_core.fulfilment.zones import MethodSpec, Zone, zone_for
from commerce_core.ordering.services import price_lines
from commerce_core.shared.command_ids import new_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.shared.values import Address, SkuQuantity


class NotDeliverableError(InvalidValueError):
    """No zone of the tenant covers the address, or no method of its zone takes the basket."""


@dataclass(frozen=True, kw_only=True)
class QuoteServices:
    """The ports quoting needs: the repository, the clock, ids, the keyring (for the
    address's blind index) and the carriers each tenant reaches."""

    repo: Repository
    clock: Clock
    ids: Ids
    keyring: Keyring
    carriers: CarrierDirectory


class QuoteShipping(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /shipping/quotes``: what would be shipped, in which currency, where."""

    lines: list[SkuQuantity]
    currency: str
    shipping_address: Address


def basket_of(
    products: Mapping[str, Product], lines: Sequence[SkuQuantity], subtotal: Money
) -> Basket:
    weights = [products[line.sku].weight_grams for line in lines]
    known = all(weight is not None for weight in weights)
    total = sum((w or 0) * line.quantity for w, line in zip(weights, lines, strict=True))
    return Basket(subtotal=subtotal, weight_grams=total if known else None)


async def address_index(keyring: Keyring, tenant_id: str, address: Address) -> str:
    """A keyed hash of the whole address (every field, as given)."""
    return await keyring.blind_index(
        tenant_id, "shipping-quote:" + msgspec.json.encode(address).decode()
    )


def where(zone: Zone | None, address: Address) -> Zone:
    if zone is None:
        region = f", region {address.region}" if address.region else ""
        raise NotDeliverableError(
            f"no delivery zone covers {address.country}{region}, postal code "
            f"{address.postal_code}: the shop does not ship there"
        )
    return zone


@dataclass(frozen=True)
class TenantCarriers:
    """The carriers one tenant reaches."""

    directory: CarrierDirectory
    tenant_id: str

    async def named(self, name: str) -> Carrier | None:
        try:
            return await self.directory.carrier_for(self.tenant_id, name)
        except CarrierNotConnectedError:
            return None


async def _rates(
    carriers: TenantCarriers,
    zone: Zone,
    methods: Sequence[MethodSpec],
    address: Address,
    basket: Basket,
) -> tuple[dict[tuple[str, str], Quote], list[str]]:
    """The carriers' rates for the carrier-priced ``methods``, one call per carrier,
    and why some carriers gave none (not reachable, refused, down)."""
    names = sorted({m.carrier for m in methods if m.carrier is not None})
    if not names or basket.weight_grams is None or zone.ship_from is None:
        return {}, []
    ship_from, parcel = zone.ship_from, Parcel(weight_grams=max(basket.weight_grams, 1))
    currency = basket.subtotal.currency

    async def rates_of(name: str) -> list[Quote] | str:
        carrier = await carriers.named(name)
        if carrier is None:
            return f"carrier {name} is not connected"
        try:
            return await carrier.quote(
                ship_from=ship_from, ship_to=address, parcel=parcel, currency=currency
            )
        except CarrierError as error:
            return f"carrier {name} gave no rates ({error})"

    rates: dict[tuple[str, str], Quote] = {}
    failures: list[str] = []
    for name, answer in zip(names, await asyncio.gather(*map(rates_of, names)), strict=True):
        if isinstance(answer, str):
            failures.append(answer)
            continue
        for quote in answer:
            if quote.rate.currency == currency:
                rates[(name, quote.service)] = quote
    return rates, failures


async def zone_offers(
    carriers: TenantCarriers,
    zone: Zone,
    address: Address,
    basket: Basket,
    only: MethodSpec | None = None,
) -> list[Offer]:
    """The zone's methods (or ``only`` that one) offered for ``basket``, priced;
    ``NotDeliverableError`` saying why when none is."""
    methods = [only] if only is not None else list(zone.methods)
    why: list[str] = []
    offered = []
    for method in methods:
        reason = refusal(method, basket)
        if reason is None:
            offered.append(method)
        else:
            why.append(reason)
    rates, failures = await _rates(carriers, zone, offered, address, basket)
    why.extend(failures)
    offers = []
    for method in offered:
        if method.carrier is None or method.service is None:
            offers.append(offer(method, basket))
        elif (rate := rates.get((method.carrier, method.service))) is not None:
            offers.append(offer(method, basket, rate.rate, rate.delivery_days))
        else:
            why.append(f"{method.code}: {method.carrier} has no rate for {method.service}")
    if not offers:
        raise NotDeliverableError(
            f"zone {zone.code} has no method for this basket: {'; '.join(dict.fromkeys(why))}"
        )
    return offers


async def quote_shipping(
    services: QuoteServices, ctx: CommandContext, command: QuoteShipping
) -> list[ShippingQuote]:
    """Quotes every method of the address's zone that takes the basket, and stores the
    quotes. Refused, recording nothing: unknown SKUs, lines the catalog cannot price in
    ``currency``, ``NotDeliverableError``."""
    repo, tenant = services.repo, ctx.tenant_id
    products = await products_for(repo, tenant, [line.sku for line in command.lines])
    goods = price_lines(products, command.lines, command.currency).totals
    basket = basket_of(products, command.lines, goods.subtotal - goods.discount)
    address = command.shipping_address
    zone = where(zone_for(await tenant_zones(repo, tenant), address), address)
    carriers = TenantCarriers(services.carriers, tenant)
    offers = await zone_offers(carriers, zone, address, basket)
    index = await address_index(services.keyring, tenant, address)
    now = services.clock.now()
    quotes = [
        ShippingQuote(
            id=new_id(ctx, services.ids, f"shipping-quote:{each.method.code}"),
            tenant_id=tenant,
            zone=zone.code,
            method=each.method.code,
            name=each.method.name,
            carrier=each.method.carrier,
            service=each.method.service,
            price=each.price,
            delivery_days=each.delivery_days,
            lines=basket_key(command.lines),
            subtotal=basket.subtotal,
            address_index=index,
            created_at=now,
            expires_at=now + QUOTE_LIFETIME,
        )
        for each in offers
    ]
    await repo.save(*quotes, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
    return quotes
