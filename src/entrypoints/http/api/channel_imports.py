"""Orders sold on channels without an adapter, imported (issue 15; ADR 0033).

``POST /channels/{channel}/orders`` with ``channel`` one of ``gbp``, ``amazon``, ``ebay``,
``etsy``, ``walmart``, ``other``: 201 with the order the first time, 200 with the same
order when the same outside order (same ``external_id``, same body) is imported again,
409 ``import-conflict`` for the same ``external_id`` with another body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from commerce_core.customers.order_customers import CustomerRef
from commerce_core.ordering.order import Attribution, ImportChannel
from commerce_core.processes.channel_imports import ImportOrder, import_channel_order
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address, SkuQuantity
from commerce_core.tenancy.fee_terms import tenant_fee_schedule
from entrypoints.http.api import examples
from entrypoints.http.api.schemas import Currency, PositiveAmount
from entrypoints.http.api.views import OrderOut, order_out
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import order_defaults, order_services
from entrypoints.http.openapi import command_problems
from entrypoints.http.services import Services, tenant_settings

ExternalId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/#-]*$",
        description="the order's id on the channel (letters, digits and . _ : / # -)",
    ),
]


class PaidIn(msgspec.Struct, forbid_unknown_fields=True):
    """What the channel collected for the order, in minor units."""

    amount: PositiveAmount
    currency: Currency


class ChannelOrderIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An order sold on the channel. ``placed_at``: when the channel took it (at most 5
    minutes ahead of our clock, at most a year old)."""

    external_id: ExternalId
    lines: list[SkuQuantity]
    customer: CustomerRef
    placed_at: datetime
    shipping_address: Address | None = None
    paid: PaidIn | None = None
    attribution: Attribution | None = None


_AGAIN = ResponseSpec(
    data_container=OrderOut,
    generate_examples=False,
    description="This outside order was imported before with the same body: the same order.",
)


class ChannelImportsController(Controller):
    path = "/channels"
    tags = ["channels"]

    @post(
        "/{channel:str}/orders",
        summary="Import an order sold on another channel",
        status_code=201,
        responses={
            200: _AGAIN,
            **command_problems("insufficient-stock", "import-conflict", "concurrency-conflict"),
        },
    )
    async def import_order(
        self,
        channel: FromPath[ImportChannel],
        data: Annotated[ChannelOrderIn, examples.CHANNEL_ORDER],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> Response[OrderOut]:
        """Records an order sold on Google Business Profile or a marketplace, once per
        (channel, `external_id`): lines at our catalog prices, stock taken from our one
        store (not enough: 409 insufficient-stock, nothing recorded), and `paid` recorded
        as a payment received from the channel (more than the order's total: 422), so the
        order is paid. `gbp` orders name their location in `attribution.gbp_location_id`.
        Admin and service keys (an integration). The same import again answers 200 with
        the order; the same `external_id` with another body: 409 import-conflict."""
        settings = await tenant_settings(services, principal)
        command = ImportOrder(
            channel=ImportChannel(channel),
            external_id=data.external_id,
            lines=data.lines,
            customer=data.customer,
            placed_at=data.placed_at,
            shipping_address=data.shipping_address,
            paid=None if data.paid is None else Money(data.paid.amount, data.paid.currency),
            attribution=data.attribution,
        )
        result = await import_channel_order(
            order_services(services),
            ctx,
            command,
            order_defaults(settings),
            tenant_fee_schedule(settings),
        )
        return Response(order_out(result.order), status_code=201 if result.created else 200)
