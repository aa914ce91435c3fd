"""StockItem: on hand, reservations that expire, commit on payment, restore on refund."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import EventMapper, EventMetadata, Repository
from commerce_core.inventory.stock import (
    InsufficientStockError,
    ReservationExistsError,
    ReservationNotFoundError,
    StockItem,
)
from commerce_core.shared.errors import InvalidValueError
from tests.unit.gwt import given

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=30)
ORDER = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
OTHER = uuid.UUID("00000000-0000-0000-0000-0000000000b2")


def new_item() -> StockItem:
    return StockItem.create("tenant-1", "SKU-1", T0)


def stocked(quantity: int) -> StockItem:
    item = new_item()
    item.receive(quantity, T0)
    return item


def test_the_id_derives_from_tenant_sku_and_location() -> None:
    item = StockItem.create("tenant-1", "SKU-1", T0, location_id="east")

    assert item.id == StockItem.id_for("tenant-1", "SKU-1", "east")
    assert StockItem.id_for("tenant-1", "SKU-1") != StockItem.id_for("tenant-2", "SKU-1")
    assert StockItem.id_for("tenant-1", "SKU-1") != StockItem.id_for("tenant-1", "SKU-1", "east")
    # a separator inside a field cannot make two keys collide
    assert StockItem.id_for("a", "b:c", "d") != StockItem.id_for("a:b", "c", "d")


def test_a_new_item_has_nothing() -> None:
    item = new_item()

    assert (item.on_hand, item.reserved(T0), item.available(T0)) == (0, 0, 0)


def test_receiving_adds_to_on_hand() -> None:
    spec = given(new_item())

    [payload] = spec.when(lambda s: s.receive(5, T0)).then("Received")

    assert payload == {"quantity": 5, "at": T0}
    assert spec.aggregate.on_hand == 5


@pytest.mark.parametrize("quantity", [0, -1, True])
def test_receiving_refuses_a_quantity_that_is_not_positive(quantity: int) -> None:
    given(new_item()).when(lambda s: s.receive(quantity, T0)).then_error(InvalidValueError)


def test_a_reservation_holds_units_until_it_expires() -> None:
    spec = given(stocked(10))

    spec.when(lambda s: s.reserve(ORDER, 4, LATER, T0)).then("Reserved")

    item = spec.aggregate
    assert (item.on_hand, item.reserved(T0), item.available(T0)) == (10, 4, 6)
    assert item.available(LATER - timedelta(microseconds=1)) == 6
    # at its expiry instant it stops counting, before any job releases it
    assert (item.reserved(LATER), item.available(LATER)) == (0, 10)
    assert item.expired_reservations(LATER - timedelta(microseconds=1)) == []
    assert item.expired_reservations(LATER) == [ORDER]


def test_reserving_more_than_available_is_refused_and_records_nothing() -> None:
    spec = given(stocked(5), lambda s: s.reserve(OTHER, 3, LATER, T0))

    error = spec.when(lambda s: s.reserve(ORDER, 3, LATER, T0)).then_error(InsufficientStockError)

    assert isinstance(error, InsufficientStockError)
    assert (error.sku, error.requested, error.available) == ("SKU-1", 3, 2)
    assert spec.aggregate.reservation(ORDER) is None


def test_units_of_an_expired_reservation_can_be_reserved_again() -> None:
    spec = given(stocked(5), lambda s: s.reserve(OTHER, 5, LATER, T0))

    spec.when(lambda s: s.reserve(ORDER, 5, LATER + timedelta(minutes=30), LATER)).then("Reserved")

    assert spec.aggregate.available(LATER) == 0


def test_an_order_holds_one_active_reservation_per_item() -> None:
    spec = given(stocked(10), lambda s: s.reserve(ORDER, 2, LATER, T0))

    spec.when(lambda s: s.reserve(ORDER, 1, LATER, T0)).then_error(ReservationExistsError)


def test_an_expired_reservation_is_replaced_by_a_new_one_of_the_same_order() -> None:
    spec = given(stocked(10), lambda s: s.reserve(ORDER, 2, LATER, T0))
    renewed = LATER + timedelta(minutes=30)

    spec.when(lambda s: s.reserve(ORDER, 3, renewed, LATER)).then("Reserved")

    assert spec.aggregate.reserved(LATER) == 3
    assert spec.aggregate.expired_reservations(LATER) == []


def test_a_reservation_must_expire_after_it_is_made() -> None:
    given(stocked(10)).when(lambda s: s.reserve(ORDER, 1, T0, T0)).then_error(InvalidValueError)


def test_releasing_frees_the_units_and_says_whether_it_had_expired() -> None:
    spec = given(stocked(10), lambda s: s.reserve(ORDER, 4, LATER, T0))

    [payload] = spec.when(lambda s: s.release(ORDER, T0)).then("ReservationReleased")

    assert payload == {"order_id": ORDER, "quantity": 4, "expired": False, "at": T0}
    assert spec.aggregate.available(T0) == 10

    spec = given(stocked(10), lambda s: s.reserve(ORDER, 4, LATER, T0))
    [payload] = spec.when(lambda s: s.release(ORDER, LATER)).then("ReservationReleased")
    assert payload["expired"] is True


def test_releasing_an_unknown_reservation_is_refused() -> None:
    given(stocked(10)).when(lambda s: s.release(ORDER, T0)).then_error(ReservationNotFoundError)


def test_committing_deducts_the_reserved_units_from_on_hand() -> None:
    spec = given(stocked(10), lambda s: s.reserve(ORDER, 4, LATER, T0))

    [payload] = spec.when(lambda s: s.commit(ORDER, T0)).then("Committed")

    assert payload == {"order_id": ORDER, "quantity": 4, "at": T0}
    item = spec.aggregate
    assert (item.on_hand, item.reserved(T0), item.available(T0)) == (6, 0, 6)
    assert item.reservation(ORDER) is None


def test_a_committed_reservation_cannot_be_released_or_committed_again() -> None:
    spec = given(
        stocked(10), lambda s: s.reserve(ORDER, 4, LATER, T0), lambda s: s.commit(ORDER, T0)
    )

    spec.when(lambda s: s.release(ORDER, T0)).then_error(ReservationNotFoundError)
    spec.when(lambda s: s.commit(ORDER, T0)).then_error(ReservationNotFoundError)


def test_an_expired_reservation_commits_if_its_units_are_still_there() -> None:
    spec = given(stocked(10), lambda s: s.reserve(ORDER, 4, LATER, T0))

    spec.when(lambda s: s.commit(ORDER, LATER)).then("Committed")

    assert spec.aggregate.on_hand == 6


def test_an_expired_reservation_whose_units_were_taken_does_not_commit() -> None:
    spec = given(
        stocked(5),
        lambda s: s.reserve(ORDER, 4, LATER, T0),
        lambda s: s.reserve(OTHER, 3, LATER + timedelta(hours=1), LATER),
    )

    error = spec.when(lambda s: s.commit(ORDER, LATER)).then_error(InsufficientStockError)

    assert isinstance(error, InsufficientStockError)
    assert (error.requested, error.available) == (4, 2)
    assert spec.aggregate.on_hand == 5


def test_restoring_puts_units_back_on_hand() -> None:
    spec = given(
        stocked(10), lambda s: s.reserve(ORDER, 4, LATER, T0), lambda s: s.commit(ORDER, T0)
    )

    [payload] = spec.when(lambda s: s.restore(3, LATER, order_id=ORDER)).then("Restored")

    assert payload == {"quantity": 3, "order_id": ORDER, "at": LATER}
    assert spec.aggregate.on_hand == 9


def test_adjusting_by_a_delta_corrects_on_hand() -> None:
    spec = given(stocked(10))

    [payload] = spec.when(lambda s: s.adjust("damaged", T0, delta=-2)).then("Adjusted")

    assert payload == {"delta": -2, "counted": None, "reason": "damaged", "at": T0}
    assert spec.aggregate.on_hand == 8


def test_a_count_sets_on_hand_and_is_recorded_even_when_it_matches() -> None:
    spec = given(stocked(10))

    [payload] = spec.when(lambda s: s.adjust("cycle count", T0, counted=7)).then("Adjusted")
    assert (payload["delta"], payload["counted"]) == (-3, 7)
    assert spec.aggregate.on_hand == 7

    [payload] = spec.when(lambda s: s.adjust("cycle count", T0, counted=7)).then("Adjusted")
    assert payload["delta"] == 0


def test_adjusting_below_what_is_reserved_is_refused() -> None:
    spec = given(stocked(10), lambda s: s.reserve(ORDER, 6, LATER, T0))

    error = spec.when(lambda s: s.adjust("count", T0, counted=5)).then_error(InsufficientStockError)
    assert isinstance(error, InsufficientStockError)
    assert (error.requested, error.available) == (5, 4)
    spec.when(lambda s: s.adjust("lost", T0, delta=-5)).then_error(InsufficientStockError)
    # once the reservation has expired the units are free to count away
    spec.when(lambda s: s.adjust("count", LATER, counted=5)).then("Adjusted")


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"delta": 1, "counted": 1}, {"delta": 0}, {"counted": -1}, {"delta": 1.5}],
)
def test_an_adjustment_takes_either_a_non_zero_delta_or_a_count(kwargs: dict[str, int]) -> None:
    given(stocked(10)).when(lambda s: s.adjust("why", T0, **kwargs)).then_error(InvalidValueError)


def test_an_adjustment_needs_a_reason() -> None:
    given(stocked(10)).when(lambda s: s.adjust("", T0, delta=1)).then_error(InvalidValueError)


def test_replaying_the_history_gives_the_same_stock() -> None:
    spec = given(
        stocked(10),
        lambda s: s.reserve(ORDER, 4, LATER, T0),
        lambda s: s.reserve(OTHER, 2, LATER, T0),
        lambda s: s.commit(ORDER, T0),
        lambda s: s.adjust("count", T0, counted=5),
    )

    rebuilt = spec.rebuilt()

    assert vars(rebuilt) == vars(spec.aggregate)
    assert (rebuilt.on_hand, rebuilt.reserved(T0)) == (5, 2)


async def test_saves_and_loads_through_the_repository_and_from_a_snapshot() -> None:
    store = MemoryEventStore()
    repository = Repository(store, snapshot_every=3)
    item = stocked(10)
    item.reserve(ORDER, 4, LATER, T0)
    await repository.save(item, metadata=EventMetadata(tenant_id="tenant-1"))
    item.reserve(OTHER, 1, LATER, T0)
    await repository.save(item, metadata=EventMetadata(tenant_id="tenant-1"))

    loaded = await repository.get(StockItem.id_for("tenant-1", "SKU-1"), kind=StockItem)
    snapshot = await store.load_snapshot(item.id)

    assert snapshot is not None
    assert snapshot.version == 3
    assert vars(loaded) == vars(item)
    from_snapshot = EventMapper().from_snapshot(snapshot)
    assert isinstance(from_snapshot, StockItem)
    assert from_snapshot.reservation(ORDER) == item.reservation(ORDER)
    assert from_snapshot.reserved(T0) == 4
