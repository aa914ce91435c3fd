"""Shipping quotes at checkout: POST /shipping/quotes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency

from commerce_core.fulfilment.quote import ShippingQuote
from commerce_core.fulfilment.quoting import QuoteShipping, quote_shipping
from commerce_core.shared.context import CommandContext
from entrypoints.http.api import examples
from entrypoints.http.api.schemas import MoneyOut
from entrypoints.http.bundles import quote_services
from entrypoints.http.openapi import command_problems
from entrypoints.http.services import Services


class QuoteOut(msgspec.Struct):
    id: UUID
    method: str
    name: str
    carrier: str | None
    service: str | None
    price: MoneyOut
    delivery_days: list[int] | None
    expires_at: datetime
    zone: str

    @classmethod
    def of(cls, quote: ShippingQuote) -> QuoteOut:
        days = quote.delivery_days
        return cls(
            id=quote.id,
            method=quote.method,
            name=quote.name,
            carrier=quote.carrier,
            service=quote.service,
            price=MoneyOut.of(quote.price),
            delivery_days=list(days) if days is not None else None,
            expires_at=quote.expires_at,
            zone=quote.zone,
        )


class QuotesOut(msgspec.Struct):
    quotes: list[QuoteOut]


class ShippingQuotesController(Controller):
    path = "/shipping/quotes"
    tags = ["shipping"]

    @post(
        "/",
        status_code=200,
        summary="Quote shipping for a basket",
        responses=command_problems("not-deliverable", "carrier-error"),
    )
    async def quote(
        self,
        data: Annotated[QuoteShipping, examples.SHIPPING_QUOTE],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> QuotesOut:
        """Prices every shipping method of the address's zone that takes the basket, and
        stores each quote for 30 minutes (every tenant role). Prices come from the
        catalog (the subtotal), the zone and, for carrier-priced methods, the carrier's
        live rate plus the handling fee. ``POST /orders`` with ``shipping_quote_id`` then
        pays the quote's price, for the same lines, subtotal and address only. An address
        outside every zone, or a basket no method takes: 422 ``not-deliverable``."""
        quotes = await quote_shipping(quote_services(services), ctx, data)
        return QuotesOut(quotes=[QuoteOut.of(quote) for quote in quotes])
