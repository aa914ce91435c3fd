"""Carrier scans on a shipment: each once, in any order, final once delivered (ADR 0032)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.fulfilment.shipment import (
    Shipment,
    ShipmentStatus,
    TrackingEvent,
    status_of,
)
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.values import Sku, SkuQuantity

T = ShipmentStatus
START = datetime(2026, 12, 1, 9, tzinfo=UTC)
SCANNED = [T.IN_TRANSIT, T.EXCEPTION, T.OUT_FOR_DELIVERY, T.DELIVERED, T.RETURNED_TO_SENDER]


def shipment() -> Shipment:
    return Shipment.create(
        id=uuid4(),
        tenant_id="t",
        order_id=uuid4(),
        lines=[SkuQuantity(Sku("MUG-1"), 1)],
        carrier="fake",
        at=START,
        tracking_number="FAKE1",
    )


def at(hours: int) -> datetime:
    return START + timedelta(hours=hours)


def test_a_delivery_scanned_before_the_transit_scan_still_ends_delivered() -> None:
    parcel = shipment()

    parcel.record_scan(T.DELIVERED, at(3))
    parcel.record_scan(T.IN_TRANSIT, at(1))

    assert parcel.status is T.DELIVERED
    assert parcel.delivered_at == at(3)
    assert [scan.status for scan in parcel.tracking] == [T.DELIVERED, T.IN_TRANSIT]


def test_the_same_scan_twice_is_recorded_once() -> None:
    parcel = shipment()

    first = parcel.record_scan(T.IN_TRANSIT, at(1), "Departed")
    again = parcel.record_scan(T.IN_TRANSIT, at(1), "Departed")

    assert (first, again, len(parcel.tracking)) == (True, False, 1)


def test_a_later_transit_scan_clears_an_exception() -> None:
    parcel = shipment()

    parcel.record_scan(T.EXCEPTION, at(2))
    parcel.record_scan(T.IN_TRANSIT, at(4))

    assert parcel.status is T.IN_TRANSIT


def test_a_late_transit_scan_does_not_move_a_parcel_out_for_delivery_back() -> None:
    parcel = shipment()

    parcel.record_scan(T.OUT_FOR_DELIVERY, at(5))
    parcel.record_scan(T.IN_TRANSIT, at(2))

    assert parcel.status is T.OUT_FOR_DELIVERY


def test_a_returned_parcel_stays_returned() -> None:
    parcel = shipment()

    parcel.record_scan(T.RETURNED_TO_SENDER, at(5))
    parcel.record_scan(T.OUT_FOR_DELIVERY, at(6))

    assert parcel.status is T.RETURNED_TO_SENDER


def test_created_is_not_a_scan() -> None:
    with pytest.raises(InvalidValueError):
        shipment().record_scan(T.CREATED, at(1))


def test_a_scan_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        shipment().record_scan(T.IN_TRANSIT, datetime(2026, 12, 1, 9))


scans = st.lists(
    st.tuples(st.sampled_from(SCANNED), st.integers(min_value=0, max_value=48)),
    max_size=8,
)


@given(scans, st.randoms())
def test_the_status_does_not_depend_on_the_order_scans_arrive_in(
    history: list[tuple[ShipmentStatus, int]], random: object
) -> None:
    shuffled = list(history)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    one, other = shipment(), shipment()

    for status, hours in history:
        one.record_scan(status, at(hours))
    for status, hours in shuffled:
        other.record_scan(status, at(hours))

    assert one.status is other.status
    assert one.delivered_at == other.delivered_at or T.DELIVERED not in {s for s, _ in history}
    assert sorted((s.status, s.at) for s in one.tracking) == sorted(
        (s.status, s.at) for s in other.tracking
    )


@given(scans)
def test_once_delivered_no_scan_moves_the_parcel(history: list[tuple[ShipmentStatus, int]]) -> None:
    parcel = shipment()
    parcel.record_scan(T.DELIVERED, at(24))

    for status, hours in history:
        parcel.record_scan(status, at(hours))

    assert parcel.status is T.DELIVERED


def test_no_scans_say_created() -> None:
    assert status_of([]) is T.CREATED
    assert status_of([TrackingEvent(T.EXCEPTION, at(1))]) is T.EXCEPTION
