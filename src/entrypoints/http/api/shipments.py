"""Shipments: carrier status events and reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from commerce_core.fulfilment.loading import get_shipment
from commerce_core.processes.shipping import CarrierUpdate, record_shipment_event
from commerce_core.shared.context import CommandContext
from commerce_core.tenancy.fee_terms import tenant_fee_schedule
from entrypoints.http.api import examples
from entrypoints.http.api.views import ShipmentOut, shipment_out
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import shipping_services
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.services import Services, tenant_of, tenant_settings


class ShipmentEventIn(msgspec.Struct, forbid_unknown_fields=True):
    # what a person may report by hand; carriers' own scans (out for delivery, returned to
    # sender) come through POST /webhooks/carriers/{carrier} and the poller (ADR 0032)
    status: Literal["in_transit", "delivered", "exception"]
    at: datetime | None = None
    detail: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class ShipmentsController(Controller):
    path = "/shipments"
    tags = ["shipments"]

    @post(
        "/{shipment_id:uuid}/events",
        summary="Record a carrier event",
        status_code=201,
        responses=command_problems("not-found", "invalid-transition", "concurrency-conflict"),
    )
    async def record_event(
        self,
        shipment_id: FromPath[UUID],
        data: Annotated[ShipmentEventIn, examples.SHIPMENT_EVENT],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> ShipmentOut:
        """A carrier update; when every shipment of a fully shipped order is delivered,
        the order becomes delivered. A delivered parcel of a cash-on-delivery order records
        the cash collected: a captured ``cash_on_delivery`` payment on the order."""
        fees = tenant_fee_schedule(await tenant_settings(services, principal))
        update = CarrierUpdate(status=data.status, at=data.at, detail=data.detail)
        shipment = await record_shipment_event(
            shipping_services(services), ctx, shipment_id, update, fees
        )
        return shipment_out(shipment)

    @get("/{shipment_id:uuid}", summary="Show a shipment", responses=query_problems("not-found"))
    async def show(
        self,
        shipment_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> ShipmentOut:
        """The shipment: carrier, tracking, lines, and every carrier event. Changes nothing."""
        return shipment_out(await get_shipment(services.repo, tenant_of(principal), shipment_id))
