"""Shipment: created for an order's lines, tracked by carrier updates until delivered."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import EventMetadata, Repository
from commerce_core.fulfilment.shipment import (
    Shipment,
    ShipmentStatus,
    TrackingEvent,
    all_delivered,
)
from commerce_core.ordering.order import OrderStatus
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.gwt import given
from tests.unit.ordering.order_builders import MUG, ORDER_ID, T0, T1, T2, TEE, paid_order, usd

T = ShipmentStatus
SHIPMENT = uuid.UUID("00000000-0000-0000-0000-0000000000e1")


def new_shipment(*lines: SkuQuantity, shipment_id: uuid.UUID = SHIPMENT) -> Shipment:
    return Shipment.create(
        id=shipment_id,
        tenant_id="tenant-1",
        order_id=ORDER_ID,
        lines=list(lines) or [SkuQuantity(MUG, 2)],
        carrier="fake",
        service="standard",
        tracking_number="FAKE0000000001",
        label_url="https://labels.example.com/fake/FAKE0000000001.pdf",
        rate=usd(600),
        at=T0,
    )


def delivered(shipment: Shipment) -> Shipment:
    shipment.record_tracking(T.DELIVERED, T2)
    return shipment


def test_a_new_shipment_carries_its_lines_and_label_and_awaits_the_carrier() -> None:
    spec = given(new_shipment())

    shipment = spec.rebuilt()
    assert [type(e).__name__ for e in spec.history] == ["Created"]
    assert (shipment.id, shipment.order_id, shipment.status) == (SHIPMENT, ORDER_ID, T.CREATED)
    assert shipment.lines == [SkuQuantity(MUG, 2)]
    assert (shipment.carrier, shipment.service, shipment.rate) == ("fake", "standard", usd(600))
    assert shipment.tracking_number == "FAKE0000000001"
    assert (shipment.tracking, shipment.delivered_at, shipment.is_delivered) == ([], None, False)


@pytest.mark.parametrize(
    "changes",
    [
        {"lines": []},
        {"lines": [SkuQuantity(MUG, 1), SkuQuantity(MUG, 1)]},
        {"carrier": " "},
        {"rate": usd(-1)},
        {"at": datetime(2026, 1, 1)},
    ],
    ids=["no-lines", "sku-twice", "no-carrier", "negative-rate", "naive-instant"],
)
def test_a_shipment_is_refused_without_lines_a_carrier_or_a_sane_rate(
    changes: dict[str, object],
) -> None:
    arguments: dict[str, object] = {
        "id": SHIPMENT,
        "tenant_id": "tenant-1",
        "order_id": ORDER_ID,
        "lines": [SkuQuantity(MUG, 1)],
        "carrier": "fake",
        "at": T0,
    }
    arguments.update(changes)

    with pytest.raises(InvalidValueError):
        Shipment.create(**arguments)  # type: ignore[arg-type]


def test_carrier_updates_move_the_shipment_to_delivered() -> None:
    spec = given(new_shipment())

    [scan] = spec.when(lambda s: s.record_tracking(T.IN_TRANSIT, T1, "left depot")).then("Tracked")
    spec.when(lambda s: s.record_tracking(T.IN_TRANSIT, T1, "hub")).then("Tracked")
    spec.when(lambda s: s.record_tracking(T.EXCEPTION, T1, "address unclear")).then("Tracked")
    spec.when(lambda s: s.record_tracking(T.DELIVERED, T2)).then("Tracked")

    assert scan == {"status": T.IN_TRANSIT, "at": T1, "detail": "left depot"}
    shipment = spec.aggregate
    assert (shipment.status, shipment.delivered_at, shipment.is_delivered) == (
        T.DELIVERED,
        T2,
        True,
    )
    assert [event.status for event in shipment.tracking] == [
        T.IN_TRANSIT,
        T.IN_TRANSIT,
        T.EXCEPTION,
        T.DELIVERED,
    ]
    assert shipment.tracking[-1] == TrackingEvent(T.DELIVERED, T2, None)
    assert shipment.updated_at == T2
    assert spec.rebuilt().tracking == shipment.tracking


@pytest.mark.parametrize("status", list(ShipmentStatus))
def test_nothing_is_recorded_after_delivery(status: ShipmentStatus) -> None:
    given(delivered(new_shipment())).when(lambda s: s.record_tracking(status, T2)).then_error(
        InvalidTransitionError
    )


def test_a_carrier_status_may_be_given_by_its_value() -> None:
    spec = given(new_shipment())

    spec.when(lambda s: s.record_tracking("in_transit", T1)).then("Tracked")  # type: ignore[arg-type]
    spec.when(lambda s: s.record_tracking("lost", T1)).then_error(  # type: ignore[arg-type]
        InvalidValueError
    )

    assert spec.aggregate.status is T.IN_TRANSIT


def test_a_carrier_update_cannot_send_a_shipment_back_to_created() -> None:
    given(new_shipment()).when(lambda s: s.record_tracking(T.CREATED, T1)).then_error(
        InvalidTransitionError
    )


def test_all_delivered_needs_at_least_one_shipment_and_every_one_delivered() -> None:
    first = delivered(new_shipment())
    second = new_shipment(shipment_id=uuid.uuid4())

    assert not all_delivered([])
    assert not all_delivered([first, second])
    assert all_delivered([first, delivered(second)])


def test_an_order_is_delivered_when_fully_shipped_and_every_shipment_is_delivered() -> None:
    order = paid_order()
    first_lines = order.lines_to_ship([SkuQuantity(MUG, 2)])
    first = new_shipment(*first_lines)
    order.record_shipment(first.id, first.lines, T1)
    delivered(first)

    # the first parcel arrived, but the tee has not shipped: not delivered yet
    assert not (order.is_fully_shipped and all_delivered([first]))

    second = new_shipment(*order.lines_to_ship(), shipment_id=uuid.uuid4())
    order.record_shipment(second.id, second.lines, T1)
    assert second.lines == [SkuQuantity(TEE, 1)]
    delivered(second)

    assert order.is_fully_shipped
    assert all_delivered([first, second])
    order.mark_delivered(T2)
    assert order.status is OrderStatus.DELIVERED


async def test_a_shipment_saved_and_loaded_has_the_same_state() -> None:
    repository = Repository(MemoryEventStore(), snapshot_every=2)
    shipment = new_shipment(SkuQuantity(Sku("HAT-1"), 1))
    shipment.record_tracking(T.IN_TRANSIT, T1)
    await repository.save(shipment, metadata=EventMetadata(tenant_id="tenant-1"))
    delivered(shipment)
    await repository.save(shipment, metadata=EventMetadata(tenant_id="tenant-1"))

    loaded = await repository.get(SHIPMENT, kind=Shipment)

    assert {k: v for k, v in vars(loaded).items() if k != "_pending_events"} == {
        k: v for k, v in vars(shipment).items() if k != "_pending_events"
    }
