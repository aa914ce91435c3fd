"""Tracking: carrier webhooks and the poller move shipments and orders (ADR 0032)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest

from adapters.carriers.tracking_webhooks import UpsTrackAlertWebhooks
from adapters.memory.carrier import OneCarrier
from adapters.memory.tracked_parcels import MemoryTrackedParcels
from commerce_core.fulfilment.ports import CarrierUnavailableError, TrackingStatus
from commerce_core.fulfilment.shipment import Shipment, ShipmentStatus
from commerce_core.fulfilment.tracking import TrackedParcel
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.ports.webhooks import (
    StoredWebhook,
    UnreadableWebhookError,
    WebhookStatus,
)
from commerce_core.processes.labels import BuyLabel, buy_shipment_label
from commerce_core.processes.shipping import CreateShipment, create_shipment
from commerce_core.processes.tracking import (
    TrackingServices,
    poll_tracking,
    process_tracking_webhook,
)
from commerce_core.shared.values import Address
from tests.unit.shop import FEES, HOME, STAFF, TENANT, Shop

WAREHOUSE = Address(
    name="Mugs", line1="9 Dock Rd", city="Austin", postal_code="78701", country="US"
)
UPS = UpsTrackAlertWebhooks()
HOOKS = {UPS.gateway: UPS}


async def _fees(tenant_id: str) -> FeeSchedule:
    return FEES


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", stock=5)
    return shop


def tracking(shop: Shop, parcels: MemoryTrackedParcels) -> TrackingServices:
    return TrackingServices(
        repo=shop.repo,
        clock=shop.clock,
        parcels=parcels,
        carriers=OneCarrier(shop.carrier, ship_from=WAREHOUSE),
        fees=_fees,
    )


async def labelled(shop: Shop, parcels: MemoryTrackedParcels, carrier: str = "fake") -> Shipment:
    """A paid order's shipment with a label bought from ``carrier`` (the fake answers)."""
    order = await shop.place(("MUG-1", 2), shipping_address=HOME)
    await shop.charge(order.id)
    services = dataclasses.replace(
        shop.shipping_services,
        carriers=OneCarrier(shop.carrier, ship_from=WAREHOUSE),
        parcels=parcels,
    )
    shipment = await create_shipment(services, STAFF, order.id, CreateShipment(carrier=carrier))
    return await buy_shipment_label(services, STAFF, shipment.id, BuyLabel())


def ups_event(tracking_number: str, kind: str, code: str, hhmmss: str) -> bytes:
    return msgspec.json.encode(
        {
            "trackingNumber": tracking_number,
            "gmtActivityDate": "20261202",
            "gmtActivityTime": hhmmss,
            "activityStatus": {"type": kind, "code": code, "description": code},
        }
    )


def stored(payload: bytes, tenant_id: str | None = None) -> StoredWebhook:
    event = UPS.verify(payload, "s3cret-credential", ["s3cret-credential"])
    return StoredWebhook(
        id=uuid4(),
        seq=1,
        gateway=event.gateway,
        event_id=event.event_id,
        type=event.type,
        payload=payload,
        status=WebhookStatus.RECEIVED,
        attempts=1,
        received_at=STAFF_TIME,
        tenant_id=tenant_id,
    )


STAFF_TIME = Shop().clock.now()


async def test_a_bought_label_watches_its_parcel(shop: Shop) -> None:
    parcels = MemoryTrackedParcels()
    shipment = await labelled(shop, parcels)

    assert shipment.tracking_number is not None
    found = await parcels.find("fake", shipment.tracking_number)
    assert found == TrackedParcel(
        tenant_id=TENANT,
        shipment_id=shipment.id,
        carrier="fake",
        tracking_number=shipment.tracking_number,
    )


async def test_webhooks_out_of_order_and_twice_deliver_the_order(shop: Shop) -> None:
    parcels = MemoryTrackedParcels()
    shipment = await labelled(shop, parcels, carrier="ups")
    number = shipment.tracking_number
    assert number is not None
    services = tracking(shop, parcels)
    delivered = stored(ups_event(number, "D", "FS", "135004"))
    moving = stored(ups_event(number, "I", "OR", "012901"))

    notes = [
        (await process_tracking_webhook(services, HOOKS, event)).note
        for event in (delivered, delivered, moving)
    ]

    shipment = await shop.repo.get(shipment.id, kind=Shipment)
    order = await load_order(shop.repo, TENANT, shipment.order_id)
    assert (shipment.status, order.status) == (ShipmentStatus.DELIVERED, OrderStatus.DELIVERED)
    assert [s.status for s in shipment.tracking] == [
        ShipmentStatus.DELIVERED,
        ShipmentStatus.IN_TRANSIT,
    ]
    assert notes[1] == "no change"
    assert (await parcels.find("ups", number)) is not None
    assert not (await parcels.find("ups", number)).open  # type: ignore[union-attr]


async def test_an_unknown_tracking_number_is_ignored(shop: Shop) -> None:
    services = tracking(shop, MemoryTrackedParcels())

    done = await process_tracking_webhook(
        services, HOOKS, stored(ups_event("1ZUNKNOWN000000001", "D", "FS", "135004"))
    )

    assert done.note.startswith("ignored: no label")


async def test_a_tenant_url_cannot_move_another_tenants_parcel(shop: Shop) -> None:
    parcels = MemoryTrackedParcels()
    shipment = await labelled(shop, parcels, carrier="ups")
    assert shipment.tracking_number is not None
    event = stored(ups_event(shipment.tracking_number, "D", "FS", "135004"), tenant_id="other")

    done = await process_tracking_webhook(tracking(shop, parcels), HOOKS, event)

    after = await shop.repo.get(shipment.id, kind=Shipment)
    assert done.note == "ignored: the parcel is another tenant's"
    assert after.status is ShipmentStatus.CREATED


async def test_an_unreadable_stored_event_is_given_up_on(shop: Shop) -> None:
    event = msgspec.structs.replace(stored(ups_event("1Z1", "D", "FS", "135004")), payload=b"[]")

    with pytest.raises(UnreadableWebhookError):
        await process_tracking_webhook(tracking(shop, MemoryTrackedParcels()), HOOKS, event)


async def test_the_poller_records_the_carriers_scans_and_checks_again_later(shop: Shop) -> None:
    parcels = MemoryTrackedParcels()
    shipment = await labelled(shop, parcels)
    number = shipment.tracking_number
    assert number is not None
    services = tracking(shop, parcels)
    shop.carrier.advance(number, TrackingStatus.IN_TRANSIT, shop.clock.now())

    first = await poll_tracking(services, every=timedelta(hours=1))
    too_soon = await poll_tracking(services, every=timedelta(hours=1))
    shop.clock.advance(timedelta(hours=2))
    shop.carrier.advance(number, TrackingStatus.DELIVERED, shop.clock.now())
    later = await poll_tracking(services, every=timedelta(hours=1))
    shop.clock.advance(timedelta(hours=2))
    after_delivery = await poll_tracking(services, every=timedelta(hours=1))

    order = await load_order(shop.repo, TENANT, shipment.order_id)
    assert [r.looked_at for r in (first, too_soon, later, after_delivery)] == [1, 0, 1, 0]
    assert [first.changed, later.changed] == [1, 1]
    assert order.status is OrderStatus.DELIVERED


async def test_a_failing_carrier_leaves_the_parcel_for_the_next_round(shop: Shop) -> None:
    parcels = MemoryTrackedParcels()
    shipment = await labelled(shop, parcels)
    number = shipment.tracking_number
    assert number is not None
    services = tracking(shop, parcels)
    shop.carrier.fail_next(CarrierUnavailableError("down"))

    failed = await poll_tracking(services)
    again = await poll_tracking(services)

    assert (failed.looked_at, len(failed.errors)) == (1, 1)
    assert (again.looked_at, again.errors) == (1, [])


async def test_the_poller_takes_a_bounded_batch_oldest_check_first(shop: Shop) -> None:
    parcels = MemoryTrackedParcels()
    for n in range(3):
        await parcels.watch(
            TrackedParcel(
                tenant_id=TENANT, shipment_id=uuid4(), carrier="fake", tracking_number=f"N{n}"
            )
        )
    now = shop.clock.now()
    await parcels.checked("fake", "N0", at=now - timedelta(hours=5))
    await parcels.checked("fake", "N1", at=now - timedelta(hours=3))

    due = await parcels.due(carriers=frozenset({"fake"}), before=now - timedelta(hours=1), limit=2)

    assert [p.tracking_number for p in due] == ["N2", "N0"]


async def test_the_poller_never_asks_carriers_that_send_webhooks(shop: Shop) -> None:
    parcels = MemoryTrackedParcels()
    await parcels.watch(
        TrackedParcel(
            tenant_id=TENANT, shipment_id=uuid4(), carrier="shipengine", tracking_number="9400"
        )
    )

    done = await poll_tracking(tracking(shop, parcels))

    assert done.looked_at == 0
