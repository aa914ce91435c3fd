"""Shipments: lines checked against what is left to ship; delivery of all delivers the order."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from commerce_core.eventstore import AggregateNotFoundError, EventStoreError, RecordedEvent
from commerce_core.fulfilment.loading import order_shipments
from commerce_core.fulfilment.ports import Label, Parcel
from commerce_core.fulfilment.shipment import Shipment, ShipmentStatus
from commerce_core.ordering.order import Order, OrderStatus, ShipmentLinesError
from commerce_core.processes.shipping import (
    CarrierUpdate,
    CreateShipment,
    LabelRequest,
    create_shipment,
    record_shipment_event,
)
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.shop import FEES, HOME, STAFF, TENANT, Shop, keyed

S = OrderStatus
T = ShipmentStatus


def lines(*items: tuple[str, int]) -> list[SkuQuantity]:
    return [SkuQuantity(Sku(sku), quantity) for sku, quantity in items]


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", stock=5)
    await shop.product("TEE-M", stock=5)
    return shop


async def paid_order(shop: Shop) -> Order:
    order = await shop.place(("MUG-1", 2), ("TEE-M", 1), shipping_address=HOME)
    await shop.charge(order.id)
    return order


async def ship(shop: Shop, order: Order, *items: tuple[str, int]) -> Shipment:
    command = CreateShipment(
        carrier="ups",
        tracking_number=f"1Z{uuid.uuid4().hex[:8]}",
        lines=lines(*items) if items else None,
    )
    return await create_shipment(shop.shipping_services, STAFF, order.id, command)


async def track(shop: Shop, shipment: Shipment, status: ShipmentStatus) -> Shipment:
    update = CarrierUpdate(status=status)
    return await record_shipment_event(shop.shipping_services, STAFF, shipment.id, update, FEES)


async def test_a_shipment_of_some_lines_partially_ships_the_order(shop: Shop) -> None:
    order = await paid_order(shop)

    shipment = await ship(shop, order, ("MUG-1", 1))

    assert shipment.lines == lines(("MUG-1", 1))
    assert (await shop.order(order.id)).status is S.PARTIALLY_SHIPPED


async def test_a_shipment_without_lines_carries_everything_left(shop: Shop) -> None:
    order = await paid_order(shop)
    await ship(shop, order, ("MUG-1", 1))

    rest = await ship(shop, order)

    assert rest.lines == lines(("MUG-1", 1), ("TEE-M", 1))
    assert (await shop.order(order.id)).status is S.SHIPPED


async def test_more_units_than_are_left_to_ship_are_refused(shop: Shop) -> None:
    order = await paid_order(shop)
    await ship(shop, order, ("MUG-1", 2))
    before = await shop.events()

    with pytest.raises(ShipmentLinesError):
        await ship(shop, order, ("MUG-1", 1))

    assert await shop.events() == before


async def test_an_unpaid_order_cannot_ship(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))

    with pytest.raises(InvalidTransitionError):
        await ship(shop, order)


async def test_without_a_tracking_number_a_label_is_bought_from_the_carrier(shop: Shop) -> None:
    order = await paid_order(shop)
    label = LabelRequest(ship_from=HOME, parcel=Parcel(weight_grams=1200), service="express")

    shipment = await create_shipment(
        shop.shipping_services, STAFF, order.id, CreateShipment(carrier="fake"), label
    )

    [(reference, bought)] = shop.carrier.labels
    assert reference == str(shipment.id)
    assert (shipment.tracking_number, shipment.label_url) == (
        bought.tracking_number,
        bought.url,
    )
    assert shipment.service == "express"


async def test_delivering_every_shipment_of_a_fully_shipped_order_delivers_it(shop: Shop) -> None:
    order = await paid_order(shop)
    first = await ship(shop, order, ("MUG-1", 2))
    second = await ship(shop, order)

    await track(shop, first, T.DELIVERED)
    assert (await shop.order(order.id)).status is S.SHIPPED
    await track(shop, second, T.IN_TRANSIT)
    assert (await shop.order(order.id)).status is S.IN_TRANSIT
    shop.clock.advance(timedelta(days=2))
    await track(shop, second, T.DELIVERED)

    delivered = await shop.order(order.id)
    assert delivered.status is S.DELIVERED
    assert delivered.status_history[-1].at == shop.clock.now()
    assert [s.status for s in await order_shipments(shop.repo, TENANT, order.id)] == [
        T.DELIVERED,
        T.DELIVERED,
    ]


async def test_a_delivered_parcel_of_a_partly_shipped_order_does_not_deliver_it(
    shop: Shop,
) -> None:
    order = await paid_order(shop)
    first = await ship(shop, order, ("MUG-1", 2))

    await track(shop, first, T.DELIVERED)

    assert (await shop.order(order.id)).status is S.PARTIALLY_SHIPPED


async def test_a_repeated_delivery_scan_changes_nothing(shop: Shop) -> None:
    order = await paid_order(shop)
    shipment = await ship(shop, order)
    await track(shop, shipment, T.DELIVERED)
    before = await shop.events()

    await track(shop, shipment, T.DELIVERED)

    assert await shop.events() == before
    with pytest.raises(InvalidTransitionError):
        await track(shop, shipment, T.IN_TRANSIT)


async def test_another_tenant_cannot_track_the_shipment(shop: Shop) -> None:
    order = await paid_order(shop)
    shipment = await ship(shop, order)
    other = STAFF.__class__(tenant_id="tenant-2", actor="x")

    with pytest.raises(AggregateNotFoundError):
        await record_shipment_event(
            shop.shipping_services, other, shipment.id, CarrierUpdate(status=T.DELIVERED), FEES
        )


async def test_a_label_whose_save_failed_is_not_bought_twice_when_the_command_is_retried(
    shop: Shop,
) -> None:
    order = await paid_order(shop)
    label = LabelRequest(ship_from=HOME, parcel=Parcel(weight_grams=1200), service="express")
    command = CreateShipment(carrier="fake")
    shop.store.planned = [None, EventStoreError("the database went away")]  # intent, label

    with pytest.raises(EventStoreError):
        await create_shipment(shop.shipping_services, keyed("ship-1"), order.id, command, label)
    shipment = await create_shipment(
        shop.shipping_services, keyed("ship-1"), order.id, command, label
    )

    [(reference, bought)] = shop.carrier.labels  # one label, bought once
    assert reference == str(shipment.id)
    assert (shipment.tracking_number, shipment.open_effects) == (bought.tracking_number, [])


async def test_the_label_intent_is_recorded_with_the_shipment_before_the_carrier_is_asked(
    shop: Shop,
) -> None:
    order = await paid_order(shop)
    label = LabelRequest(ship_from=HOME, parcel=Parcel(weight_grams=1200), service="express")
    seen: list[str] = []
    buy = shop.carrier.create_label

    async def spy(**kwargs: Any) -> Label:
        seen.extend(_name(e) for e in await shop.events())
        return await buy(**kwargs)

    shop.carrier.create_label = spy  # type: ignore[method-assign]

    await create_shipment(
        shop.shipping_services, STAFF, order.id, CreateShipment(carrier="fake"), label
    )

    assert {"Shipment.Created", "Shipment.EffectRequested", "Order.ShipmentRecorded"} <= set(seen)
    assert "Shipment.LabelBought" not in seen


def _name(event: RecordedEvent) -> str:
    return ".".join(event.type.rsplit(":", 1)[-1].split(".")[-2:])
