"""Shipment use cases: send some or all of an order's lines, record the carrier's tracking.

A shipment and the order's ``ShipmentRecorded`` are saved in one append. A
tracking update that delivers the last undelivered shipment of a fully
shipped order delivers the order in the same append; the first ``in_transit``
scan of a shipped order moves it to ``in_transit``. A cash-on-delivery order
ships unpaid: its first shipment takes its stock, and each delivery records the
cash the courier collected, in the same appends (``cash_on_delivery``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.loading import load_shipments
from commerce_core.fulfilment.ports import Parcel
from commerce_core.fulfilment.shipment import (
    TRACKING_UPDATES,
    Shipment,
    ShipmentStatus,
    all_delivered,
)
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.payments.fees import FeeSchedule
from commerce_core.processes.cash_on_delivery import (
    CashCollection,
    due_on_delivery,
    record_collection,
    take_stock_on_shipping,
)
from commerce_core.processes.labels import buy_label
from commerce_core.processes.shipping_services import ShippingServices
from commerce_core.shared.command_ids import new_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.loading import find_owned, load_owned
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict
from commerce_core.shared.values import Address, SkuQuantity, check_aware, parse_enum

__all__ = ["CarrierUpdate", "CreateShipment", "LabelRequest", "ShippingServices", "buy_label"]


class CreateShipment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /orders/{id}/shipments``; ``lines`` left out means everything left to ship."""

    carrier: str
    service: str | None = None
    tracking_number: str | None = None
    lines: list[SkuQuantity] | None = None


class LabelRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What buying a label needs besides the order: where from, and the parcel."""

    ship_from: Address
    parcel: Parcel
    service: str = "standard"


class CarrierUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /shipments/{id}/events``: what the carrier says of a parcel, and when
    (default now)."""

    status: ShipmentStatus | str
    at: datetime | None = None
    detail: str | None = None


async def create_shipment(
    services: ShippingServices,
    ctx: CommandContext,
    order_id: UUID,
    command: CreateShipment,
    label: LabelRequest | None = None,
) -> Shipment:
    """Records a shipment of ``command.lines``; with no tracking number and a ``label``
    request, buys a label from the carrier (the keyring opens the shipping address).

    Refused before anything (no label bought): ``ShipmentLinesError`` for SKUs the
    order lacks or more units than are left to ship, ``InvalidTransitionError`` for
    an order that may not ship (unpaid and not cash on delivery, cancelled, ...),
    ``InsufficientStockError`` for a cash-on-delivery order whose units are gone.
    """
    repo = services.repo
    shipment_id = new_id(ctx, services.ids, f"shipment:{order_id}")
    shipped = await find_owned(repo, ctx.tenant_id, shipment_id, Shipment)
    if shipped is not None:  # this command ran before: finish its label if need be
        return await buy_label(services, ctx, shipment_id) if shipped.open_effects else shipped
    order = await load_order(repo, ctx.tenant_id, order_id)
    at = services.clock.now()
    # A card payment under way would take money a cash-on-delivery parcel collects too.
    order.check_no_payment_in_progress()
    order.record_shipment(shipment_id, command.lines, at, ctx.actor)  # a check: not saved
    await take_stock_on_shipping(repo, order, await load_ledger(repo, order), at)  # a check
    buys = command.tracking_number is None and label is not None
    if buys and order.shipping_address is None:
        raise InvalidValueError(f"order {order.number} has no shipping address to label")

    async def attempt() -> Shipment:
        order = await load_order(repo, ctx.tenant_id, order_id)
        order.check_no_payment_in_progress()
        lines = order.lines_to_ship(command.lines)
        shipment = Shipment.create(
            id=shipment_id,
            tenant_id=ctx.tenant_id,
            order_id=order_id,
            lines=lines,
            carrier=command.carrier,
            at=at,
            service=command.service,
            tracking_number=command.tracking_number,
        )
        if buys and label is not None:
            service = command.service or label.service
            shipment.request_label(service, label.ship_from, label.parcel, at, command.carrier)
        order.record_shipment(shipment_id, lines, at, ctx.actor)
        ledger = await load_ledger(repo, order)
        items = await take_stock_on_shipping(repo, order, ledger, at)
        taken = [ledger, *items] if items else []
        await repo.save(
            order, shipment, *taken, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key
        )
        return shipment

    shipment = await retry_on_conflict(attempt, attempts=DECISION_ATTEMPTS)
    if shipment.open_effects:
        shipment = await buy_label(services, ctx, shipment_id, fresh=True)
    return shipment


async def record_shipment_event(
    services: ShippingServices,
    ctx: CommandContext,
    shipment_id: UUID,
    carrier_update: CarrierUpdate,
    fees: FeeSchedule,
) -> Shipment:
    """``POST /shipments/{id}/events``: a carrier update (``in_transit``, ``delivered``,
    ``exception``) at its ``at`` (default now). A repeated ``delivered`` changes nothing;
    any update after delivery is refused (``InvalidTransitionError``).

    ``delivered`` of a cash-on-delivery order's parcel records the cash collected (a
    payment priced with ``fees``, the tenant's schedule) in the same append."""
    repo, at, detail = services.repo, carrier_update.at, carrier_update.detail
    update = parse_enum(ShipmentStatus, carrier_update.status)
    if update not in TRACKING_UPDATES:
        raise InvalidValueError(f"a carrier update is one of {sorted(TRACKING_UPDATES)}")
    when = check_aware(at) if at is not None else services.clock.now()

    async def attempt() -> Shipment:
        shipment = await load_owned(repo, ctx.tenant_id, shipment_id, Shipment)
        if shipment.is_delivered and update is ShipmentStatus.DELIVERED:
            return shipment
        shipment.record_tracking(update, when, detail)
        order = await load_order(repo, ctx.tenant_id, shipment.order_id)
        cash: list[Aggregate] = []
        if update is ShipmentStatus.DELIVERED:
            delivered = ParcelDelivered(shipment, fees, when, ctx.actor)
            cash = await record_delivery(repo, order, delivered)
        elif update is ShipmentStatus.IN_TRANSIT and order.can_change_to(OrderStatus.IN_TRANSIT):
            order.change_status(OrderStatus.IN_TRANSIT, when, ctx.actor)
        await repo.save(
            shipment,
            order,
            *cash,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        return shipment

    return await retry_on_conflict(attempt)


@dataclass(frozen=True)
class ParcelDelivered:
    """A parcel of the order delivered at ``at`` (reported by ``actor``); ``fees`` price
    the cash it collected, if it was sent cash on delivery."""

    shipment: Shipment
    fees: FeeSchedule
    at: datetime
    actor: str


async def record_delivery(
    repo: Repository, order: Order, delivered: ParcelDelivered
) -> list[Aggregate]:
    """Records a delivered parcel's cash on delivery (if any) and delivers the order once
    every parcel of it is delivered; returns the payment and ledger to save with them."""
    shipment, fees, at, actor = delivered.shipment, delivered.fees, delivered.at, delivered.actor
    shipments = [shipment if s.id == shipment.id else s for s in await load_shipments(repo, order)]
    ledger = await load_ledger(repo, order)
    due = due_on_delivery(order, ledger, shipments, shipment)
    cash = None
    if due is not None:
        cash = record_collection(order, ledger, CashCollection(shipment.id, due, at, actor), fees)
    if (
        all_delivered(shipments)
        and order.is_fully_shipped
        and order.can_change_to(OrderStatus.DELIVERED)
    ):
        reason = None if cash is None else f"cash collected on delivery: {cash.amount}"
        order.mark_delivered(at, actor, reason)
    return [] if cash is None else [cash, ledger]
