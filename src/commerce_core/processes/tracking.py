"""Carrier tracking: scans from webhooks and from the poller move shipments and orders
(ADR 0032).

``record_scans`` records a parcel's scans on its shipment, each once, in any order
(``Shipment.record_scan``): the first ``in_transit`` or ``out_for_delivery`` moves a
shipped order to ``in_transit``; ``delivered`` delivers the order once every parcel of
it is delivered (and records cash on delivery), in the same append, as the manual
``POST /shipments/{id}/events`` does. A parcel delivered or returned is no longer polled.

``poll_tracking`` asks the carriers that send no webhooks (``POLLED``) about a bounded
batch of open parcels not checked for ``every``; a carrier that fails leaves its parcel
for the next round.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from eventsourcing.domain import Aggregate

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.connections import TenantCarriers
from commerce_core.fulfilment.ports import CarrierError, TrackingEvent
from commerce_core.fulfilment.shipment import FINAL, Shipment, ShipmentStatus
from commerce_core.fulfilment.tracking import (
    SCAN_STATUS,
    TrackedParcel,
    TrackedParcels,
    TrackingWebhookError,
    TrackingWebhooks,
)
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import SYSTEM, OrderStatus
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.ports.webhooks import (
    StoredWebhook,
    UnreadableWebhookError,
    WebhookFailedError,
)
from commerce_core.payments.webhooks.processing import ProcessedWebhook
from commerce_core.processes.shipping import ParcelDelivered, record_delivery
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError
from commerce_core.shared.loading import load_owned
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.retry import retry_on_conflict

FeesOf = Callable[[str], Awaitable[FeeSchedule]]
"""A tenant's fee schedule (a delivery may record cash on delivery)."""

POLLED = frozenset({"ups", "fake"})
"""Carriers asked by the poller: UPS (Track Alert needs a subscription per parcel; the
poller covers tenants without one) and the fake. ShipEngine sends webhooks."""

_MOVES_ORDER = frozenset({ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY})


@dataclass(frozen=True, kw_only=True)
class TrackingServices:
    """The shipments' repository, the clock, the tracked parcels, each tenant's carriers
    (the poller asks them) and each tenant's fee schedule."""

    repo: Repository
    clock: Clock
    parcels: TrackedParcels
    carriers: TenantCarriers
    fees: FeesOf


@dataclass(frozen=True)
class ScansRecorded:
    """How many scans were new, and where the shipment stands after them."""

    new: int
    status: ShipmentStatus | None
    note: str


async def record_scans(
    services: TrackingServices,
    parcel: TrackedParcel,
    scans: Sequence[TrackingEvent],
    correlation_id: str | None = None,
) -> ScansRecorded:
    """Records ``scans`` of ``parcel`` on its shipment (see the module's docstring);
    scans recorded before change nothing. A parcel whose shipment does not carry its
    tracking number (its label was voided, or its recording never happened) is ignored."""
    ctx = CommandContext(tenant_id=parcel.tenant_id, actor=SYSTEM, correlation_id=correlation_id)
    repo = services.repo

    async def attempt() -> ScansRecorded:
        shipment = await load_owned(repo, parcel.tenant_id, parcel.shipment_id, Shipment)
        if shipment.tracking_number != parcel.tracking_number:
            note = f"ignored: shipment {shipment.id} has no label {parcel.tracking_number}"
            return ScansRecorded(0, shipment.status, note)
        before = shipment.status
        new = 0
        for scan in sorted(scans, key=lambda scan: scan.at):
            status = SCAN_STATUS[scan.status]
            if status is not None and shipment.record_scan(status, scan.at, scan.description):
                new += 1
        if not new:
            return ScansRecorded(0, shipment.status, "no change")
        order = await load_order(repo, parcel.tenant_id, shipment.order_id)
        at = services.clock.now()
        cash: list[Aggregate] = []
        if shipment.is_delivered and before is not ShipmentStatus.DELIVERED:
            fees = await services.fees(parcel.tenant_id)
            delivered_at = shipment.delivered_at or at
            delivered = ParcelDelivered(shipment, fees, delivered_at, SYSTEM)
            cash = await record_delivery(repo, order, delivered)
        elif shipment.status in _MOVES_ORDER and order.can_change_to(OrderStatus.IN_TRANSIT):
            order.change_status(OrderStatus.IN_TRANSIT, at, SYSTEM)
        await repo.save(shipment, order, *cash, metadata=ctx.metadata())
        return ScansRecorded(new, shipment.status, f"{new} scans recorded: {shipment.status}")

    recorded = await retry_on_conflict(attempt)
    if recorded.status in FINAL:
        await services.parcels.checked(
            parcel.carrier, parcel.tracking_number, at=services.clock.now(), open=False
        )
    return recorded


@dataclass(frozen=True)
class PollRound:
    looked_at: int
    changed: int
    errors: list[str]


async def poll_tracking(
    services: TrackingServices,
    *,
    every: timedelta = timedelta(hours=1),
    limit: int = 100,
    carriers: frozenset[str] = POLLED,
) -> PollRound:
    """One round: up to ``limit`` open parcels of ``carriers`` not checked for
    ``every`` ask their carrier's ``track``; each answer is recorded (``record_scans``)
    and the parcel marked checked. A carrier or recording failure is reported in
    ``errors`` and leaves the parcel unchecked, so the next round asks again."""
    now = services.clock.now()
    due = await services.parcels.due(carriers=carriers, before=now - every, limit=limit)
    changed, errors = 0, []
    for parcel in due:
        try:
            carrier = await services.carriers.carrier_for(parcel.tenant_id, parcel.carrier)
            scans = await carrier.track(parcel.tracking_number)
            recorded = await record_scans(services, parcel, scans, "poll-tracking")
        except (CarrierError, DomainError) as error:
            errors.append(f"{parcel.carrier} {parcel.tracking_number}: {error}")
            continue
        changed += 1 if recorded.new else 0
        if recorded.status not in FINAL:
            await services.parcels.checked(parcel.carrier, parcel.tracking_number, at=now)
    return PollRound(looked_at=len(due), changed=changed, errors=errors)


async def process_tracking_webhook(
    services: TrackingServices, hooks: Mapping[str, TrackingWebhooks], webhook: StoredWebhook
) -> ProcessedWebhook:
    """A stored carrier event (``gateway`` ``carrier:<name>``): its scans recorded on
    the shipment whose label carries its tracking number. Ignored: an event that is not
    about tracking, a tracking number we sold no label for, and one of another tenant
    than the tenant whose URL received it. Failures are ``WebhookFailedError`` (retried
    by the inbox worker); an unreadable event is ``UnreadableWebhookError``."""
    hook = hooks.get(webhook.gateway)
    if hook is None:
        raise UnreadableWebhookError(f"no tracking webhooks for {webhook.gateway!r}")
    try:
        news = hook.translate(webhook.payload)
    except TrackingWebhookError as error:
        raise UnreadableWebhookError(str(error)) from None
    owner = webhook.tenant_id
    if news is None:
        return ProcessedWebhook(f"ignored: {webhook.type} is not a tracking event", owner)
    parcel = await services.parcels.find(news.carrier, news.tracking_number)
    if parcel is None:
        return ProcessedWebhook(f"ignored: no label {news.tracking_number} of ours", owner)
    if owner is not None and parcel.tenant_id != owner:
        return ProcessedWebhook("ignored: the parcel is another tenant's", owner)
    correlation = f"webhook:{webhook.gateway}:{webhook.event_id}"
    try:
        recorded = await record_scans(services, parcel, news.scans, correlation)
    except Exception as error:
        raise WebhookFailedError(f"{type(error).__name__}: {error}", parcel.tenant_id) from error
    return ProcessedWebhook(recorded.note, parcel.tenant_id)
