"""Shipping labels and packing slips (ADR 0030): buy a label once, print it, void it;
print a shipment's packing slip. Admin and staff keys (labels print addresses)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from commerce_core.fulfilment.connections import CarrierName
from commerce_core.fulfilment.packing_slip import PackingSlipRenderer
from commerce_core.fulfilment.ports import LabelFormat, Parcel
from commerce_core.ordering.loading import load_order
from commerce_core.processes.labels import (
    BuyLabel,
    buy_shipment_label,
    label_document,
    void_shipment_label,
)
from commerce_core.processes.packing_slips import packing_slip
from commerce_core.shared.context import CommandContext
from commerce_core.shared.values import Address
from entrypoints.http.api.examples import ADDRESS
from entrypoints.http.api.views import ShipmentOut, shipment_out
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import shipping_services
from entrypoints.http.openapi import command_problems, example_body, query_problems
from entrypoints.http.services import Services, tenant_of

MEDIA_TYPES = {
    LabelFormat.PDF: "application/pdf",
    LabelFormat.PNG: "image/png",
    LabelFormat.GIF: "image/gif",
    LabelFormat.ZPL: "application/x-zpl",
}
_Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
_Millimetres = Annotated[int, msgspec.Meta(ge=1, le=3000)]


class ParcelIn(msgspec.Struct, forbid_unknown_fields=True):
    weight_grams: Annotated[int, msgspec.Meta(ge=1, le=150_000)]
    length_mm: _Millimetres | None = None
    width_mm: _Millimetres | None = None
    height_mm: _Millimetres | None = None


class LabelIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    carrier: CarrierName | None = None
    service: _Code | None = None
    rate_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    parcel: ParcelIn | None = None
    ship_from: Address | None = None
    after_unknown: bool = False


LABEL = Body(
    examples=example_body(
        ("The shipment's carrier and service (or the cheapest)", {}),
        ("A named service", {"carrier": "fake", "service": "express"}),
        (
            "A weighed parcel from another address",
            {"service": "standard", "parcel": {"weight_grams": 2400}, "ship_from": ADDRESS},
        ),
    )
)


def _parcel(parcel: ParcelIn | None) -> Parcel | None:
    if parcel is None:
        return None
    return Parcel(
        weight_grams=parcel.weight_grams,
        length_mm=parcel.length_mm,
        width_mm=parcel.width_mm,
        height_mm=parcel.height_mm,
    )


def provide_packing_slips(request: Request[Any, Any, Any]) -> PackingSlipRenderer:
    renderer: PackingSlipRenderer = request.app.state.container.packing_slips()
    return renderer


class LabelsController(Controller):
    path = "/shipments"
    tags = ["shipments"]

    @post(
        "/{shipment_id:uuid}/label",
        status_code=201,
        summary="Buy a shipment's label",
        responses=command_problems(
            "not-found",
            "invalid-transition",
            "concurrency-conflict",
            "label-in-progress",
            "label-outcome-unknown",
            "carrier-not-connected",
            "carrier-refused",
            "address-refused",
            "unsupported-service",
            "rate-not-found",
            "carrier-unavailable",
            "carrier-error",
        ),
    )
    async def buy(
        self,
        shipment_id: FromPath[UUID],
        data: Annotated[LabelIn, LABEL],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> ShipmentOut:
        """Buys the shipment's label from the tenant's carrier connection (admin, staff),
        exactly once: the decision is recorded before the carrier is called, a retried or
        concurrent request gets the same label (or 409 `label-in-progress` while it is
        being bought), and a crash is finished by recovery. The shipment then shows the
        tracking number, carrier, service, cost and `label_url`. Service: the one given,
        the one `rate_id` names, the shipment's, else the cheapest. A carrier's refusal
        answers 422 with its message and records nothing bought; an unreachable carrier
        503 `carrier-unavailable` (the purchase is finished by recovery)."""
        command = BuyLabel(
            carrier=None if data.carrier is None else str(data.carrier),
            service=data.service,
            rate_id=data.rate_id,
            parcel=_parcel(data.parcel),
            ship_from=data.ship_from,
            after_unknown=data.after_unknown,
        )
        bundle = shipping_services(services)
        shipment = await buy_shipment_label(bundle, ctx, shipment_id, command)
        order = await load_order(services.repo, ctx.tenant_id, shipment.order_id)
        return shipment_out(shipment, order.totals.shipping)

    @get(
        "/{shipment_id:uuid}/label",
        summary="Print a shipment's label",
        responses=query_problems("not-found", "no-label", "label-erased"),
        media_type="application/octet-stream",
    )
    async def print_label(
        self,
        shipment_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> Response[bytes]:
        """The label's document as the carrier made it (`application/pdf`, `image/png`,
        `image/gif` or `application/x-zpl`), for admin and staff. Changes nothing. 410
        `label-erased` once the customer whose address it prints is erased."""
        document = await label_document(
            shipping_services(services), tenant_of(principal), shipment_id
        )
        return Response(document.content, media_type=MEDIA_TYPES[document.format])

    @post(
        "/{shipment_id:uuid}/label/void",
        status_code=200,
        summary="Void a shipment's label",
        responses=command_problems(
            "not-found",
            "no-label",
            "label-not-voidable",
            "concurrency-conflict",
            "carrier-not-connected",
            "carrier-unavailable",
            "carrier-error",
        ),
    )
    async def void(
        self,
        shipment_id: FromPath[UUID],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> ShipmentOut:
        """Voids the label at the carrier, then on the shipment, which may then buy another
        (admin, staff). 409 `label-not-voidable` once the parcel moved or where the
        carrier refuses (its message in `detail`). Voiding again is harmless."""
        shipment = await void_shipment_label(shipping_services(services), ctx, shipment_id)
        order = await load_order(services.repo, ctx.tenant_id, shipment.order_id)
        return shipment_out(shipment, order.totals.shipping)

    @get(
        "/{shipment_id:uuid}/packing-slip",
        summary="Print a shipment's packing slip",
        responses=query_problems("not-found"),
        media_type="application/pdf",
    )
    async def packing_slip(
        self,
        shipment_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        """The packing slip as a PDF (admin, staff): the order number as text and Code 39
        barcode, the ship-to address (or a note that the customer was erased), and the
        shipment's lines with product names and quantities. Changes nothing."""
        slip = await packing_slip(
            services.repo, services.keyring, tenant_of(principal), shipment_id
        )
        renderer = provide_packing_slips(request)
        return Response(renderer.render(slip), media_type="application/pdf")
