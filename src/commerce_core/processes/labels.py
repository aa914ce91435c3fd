"""Labels: bought exactly once, intent first; voided where the carrier allows (ADR 0030).

``buy_shipment_label`` (``POST /shipments/{id}/label``) checks what it can and reads
what it needs before deciding (the carrier connection, the address, a rate's service),
then records the intent on the shipment's stream: two concurrent requests contend for
that one append, so one wins and the other is answered ``LabelInProgressError`` (or the
bought label, once it is). Only the request that recorded the intent calls the carrier
(``buy_label(fresh=True)``); recovery and retries of a command that recorded it run
``buy_label(fresh=False)``, which asks again with the intent's key, or, for a carrier
that cannot deduplicate (UPS), closes the intent as ``unknown`` for an operator.

The label's document is sealed under the customer's data key before it is stored, and
stored before the label is recorded on the shipment: a crash between the two leaves
the intent open, and running it again returns the same label and stores nothing new.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from commerce_core.fulfilment.connections import ConnectedCarrier
from commerce_core.fulfilment.label_documents import StoredLabel
from commerce_core.fulfilment.ports import (
    Carrier,
    CarrierRefusedError,
    Label,
    LabelFormat,
    Parcel,
)
from commerce_core.fulfilment.shipment import UNKNOWN_OUTCOME, NoLabelError, Shipment
from commerce_core.fulfilment.tracking import TrackedParcel
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import Order
from commerce_core.processes.shipping_services import ShippingServices
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.loading import load_owned
from commerce_core.shared.ports.keyring import ERASED, MissingKeyError
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict
from commerce_core.shared.sealing import unseal
from commerce_core.shared.values import Address


class BuyLabel(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /shipments/{id}/label``. ``carrier`` defaults to the shipment's, ``service``
    to the shipment's, else the one ``rate_id`` names among the carrier's rates, else the
    cheapest; ``parcel`` and ``ship_from`` to the connection's defaults."""

    carrier: str | None = None
    service: str | None = None
    rate_id: str | None = None
    parcel: Parcel | None = None
    ship_from: Address | None = None
    after_unknown: bool = False


class UnknownRateError(InvalidValueError):
    """No rate of the carrier for this parcel has this id (expired, or another parcel's)."""


class LabelErasedError(DomainError):
    """The label printed a customer's address and the customer was erased."""


def _label_aad(key: str) -> bytes:
    return f"label:{key}".encode()


async def _ship_to(services: ShippingServices, order: Order) -> Address:
    ship_to = await unseal(services.keyring, order.shipping_address, "shipping_address", Address)
    if ship_to is None:
        raise InvalidValueError(
            f"order {order.number} has no shipping address to label (none given, or erased)"
        )
    return ship_to


async def _service(
    command: BuyLabel,
    shipment: Shipment,
    carrier_name: str,
    carrier: Carrier,
    route: tuple[Address, Address, Parcel],
    currency: str,
) -> str:
    """The service asked for; a rate id is looked up among the carrier's current rates
    (a read, so before the decision); with neither, the shipment's or the cheapest."""
    if command.service:
        return command.service
    if command.rate_id is None and shipment.service and carrier_name == shipment.carrier:
        return shipment.service
    ship_from, ship_to, parcel = route
    quotes = await carrier.quote(
        ship_from=ship_from, ship_to=ship_to, parcel=parcel, currency=currency
    )
    if command.rate_id is not None:
        for quote in quotes:
            if quote.rate_id == command.rate_id:
                return quote.service
        raise UnknownRateError(f"{carrier.name} has no rate {command.rate_id!r} for this parcel")
    if not quotes:
        raise InvalidValueError(f"{carrier.name} offers no service for this parcel")
    return min(quotes, key=lambda quote: quote.rate.amount).service


async def buy_shipment_label(
    services: ShippingServices, ctx: CommandContext, shipment_id: UUID, command: BuyLabel
) -> Shipment:
    """Buys the shipment's label once (see the module's docstring). A shipment that has
    its label already is returned as it is. Refused before anything is recorded:
    ``LabelInProgressError``, ``LabelOutcomeUnknownError``, ``CarrierNotConnectedError``,
    ``UnknownRateError``, an order without a readable address; refused by the carrier:
    ``CarrierRefusedError`` (the intent is closed as refused, nothing bought);
    ``CarrierUnavailableError`` leaves the intent open for recovery."""
    repo = services.repo
    shipment = await load_owned(repo, ctx.tenant_id, shipment_id, Shipment)
    if shipment.has_label:
        return shipment
    shipment.check_can_request_label(command.after_unknown)
    order = await load_order(repo, ctx.tenant_id, shipment.order_id)
    ship_to = await _ship_to(services, order)
    name = command.carrier or shipment.carrier
    connected: ConnectedCarrier = await services.carriers.connected(ctx.tenant_id, name)
    ship_from = command.ship_from or connected.details.ship_from
    if ship_from is None:
        raise InvalidValueError(
            f"no ship-from address: give ship_from, or set it on PUT /admin/carriers/{name}"
        )
    parcel = command.parcel or Parcel(weight_grams=connected.details.default_weight_grams)
    route = (ship_from, ship_to, parcel)
    service = await _service(command, shipment, name, connected.carrier, route, order.currency)

    async def decide() -> Shipment:
        shipment = await load_owned(repo, ctx.tenant_id, shipment_id, Shipment)
        if not shipment.has_label:
            at = services.clock.now()
            shipment.request_label(service, ship_from, parcel, at, name, command.after_unknown)
            await repo.save(shipment, metadata=ctx.metadata())
        return shipment

    shipment = await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)
    if not shipment.open_effects:
        return shipment
    return await buy_label(services, ctx, shipment_id, fresh=True)


async def buy_label(
    services: ShippingServices, ctx: CommandContext, shipment_id: UUID, fresh: bool = False
) -> Shipment:
    """Buys the label a shipment decided on, with the intent's key, and records it.

    ``fresh``: the caller recorded the intent itself, so nobody asked the carrier yet.
    Otherwise (recovery, a retried command) a carrier that deduplicates is asked again
    with the same key and answers with the label bought the first time; one that does
    not is not asked: the intent is closed as ``unknown`` (ADR 0030). A carrier that
    refuses closes the intent as refused and raises ``CarrierRefusedError``; one that
    fails otherwise leaves the intent open for recovery (``CarrierError``)."""
    repo = services.repo
    shipment = await load_owned(repo, ctx.tenant_id, shipment_id, Shipment)
    if not shipment.open_effects:
        return shipment
    effect = shipment.open_effects[0]
    carrier = await services.carriers.carrier_for(ctx.tenant_id, effect.carrier or shipment.carrier)
    order = await load_order(repo, ctx.tenant_id, shipment.order_id)
    refused: CarrierRefusedError | None = None
    bought: Label | None = None
    if fresh or carrier.deduplicates:
        try:
            bought = await carrier.create_label(
                ship_from=effect.ship_from,
                ship_to=await _ship_to(services, order),
                parcel=effect.parcel,
                service=effect.service,
                currency=order.currency,
                reference=str(shipment_id),
                idempotency_key=effect.key,
            )
        except CarrierRefusedError as error:
            refused = error  # the carrier refused the request itself: nothing was bought
    if bought is not None:
        await _store_document(services, ctx, order, shipment_id, effect.key, bought)
        await _watch(services, ctx, shipment_id, effect.carrier or shipment.carrier, bought)
    outcome = "bought" if bought else f"refused:{refused}" if refused else UNKNOWN_OUTCOME

    async def record() -> Shipment:
        shipment = await load_owned(repo, ctx.tenant_id, shipment_id, Shipment)
        at = services.clock.now()
        if bought is not None:
            shipment.record_label(bought, at, effect.key)
        shipment.complete(effect.key, outcome, at)
        await repo.save(shipment, metadata=ctx.metadata())
        return shipment

    shipment = await retry_on_conflict(record)
    if refused is not None:
        raise refused
    return shipment


async def _watch(
    services: ShippingServices, ctx: CommandContext, shipment_id: UUID, carrier: str, label: Label
) -> None:
    """Tracks the parcel (ADR 0032) before the label is recorded, as its document is."""
    if services.parcels is not None:
        parcel = TrackedParcel(
            tenant_id=ctx.tenant_id,
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_number=label.tracking_number,
        )
        await services.parcels.watch(parcel)


async def _store_document(
    services: ShippingServices,
    ctx: CommandContext,
    order: Order,
    shipment_id: UUID,
    key: str,
    label: Label,
) -> None:
    """Seals the label's bytes under the customer's data key and stores them; nothing is
    stored when the customer was erased meanwhile (the label stays recorded)."""
    if order.shipping_address is None:
        return
    owner = order.shipping_address.key_id
    try:
        sealed = await services.keyring.encrypt(owner, label.document.content, _label_aad(key))
    except MissingKeyError:
        return
    stored = StoredLabel(format=label.document.format, sealed_for=owner, content=sealed)
    await services.labels.put(ctx.tenant_id, shipment_id, key, stored)


class LabelDocumentOut(msgspec.Struct, frozen=True, kw_only=True):
    format: LabelFormat
    content: bytes


async def label_document(
    services: ShippingServices, tenant_id: str, shipment_id: UUID
) -> LabelDocumentOut:
    """``GET /shipments/{id}/label``: the current label's document. ``NoLabelError``
    without one (or for labels recorded before documents were kept);
    ``LabelErasedError`` once the customer is erased."""
    shipment = await load_owned(services.repo, tenant_id, shipment_id, Shipment)
    if not shipment.has_label or shipment.label_key is None:
        raise NoLabelError(f"shipment {shipment_id} has no label document")
    stored = await services.labels.get(tenant_id, shipment_id, shipment.label_key)
    if stored is None:
        raise LabelErasedError(f"the label of shipment {shipment_id} was not kept: erased")
    opened = await services.keyring.decrypt(
        stored.sealed_for, stored.content, _label_aad(shipment.label_key)
    )
    if opened is ERASED:
        raise LabelErasedError(f"the label of shipment {shipment_id} printed an erased address")
    assert isinstance(opened, bytes)
    return LabelDocumentOut(format=stored.format, content=opened)


async def void_shipment_label(
    services: ShippingServices, ctx: CommandContext, shipment_id: UUID
) -> Shipment:
    """``POST /shipments/{id}/label/void``: the carrier voids the label, then the shipment
    records it (and may buy another). Voiding is idempotent at the carrier, so a crash
    between the two is finished by asking again. Refused: ``NoLabelError``,
    ``LabelNotVoidableError`` (the parcel moved, or the carrier says no)."""
    repo = services.repo
    shipment = await load_owned(repo, ctx.tenant_id, shipment_id, Shipment)
    label_id = shipment.check_voidable()
    carrier = await services.carriers.carrier_for(ctx.tenant_id, shipment.carrier)
    await carrier.void_label(label_id)

    async def record() -> Shipment:
        shipment = await load_owned(repo, ctx.tenant_id, shipment_id, Shipment)
        if shipment.label_id == label_id:
            shipment.record_void(services.clock.now())
            await repo.save(shipment, metadata=ctx.metadata())
        return shipment

    return await retry_on_conflict(record)
