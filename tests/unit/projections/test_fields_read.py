"""Projections decode only the fields they read (ADR 0048): the same changes as a full decode."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import START, EventMapper, RecordedEvent
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.projections import Projection
from commerce_core.projections.decoding import FieldsDecoder
from commerce_core.projections.order_list import OrderList
from entrypoints.projections import registered_projections
from tests.unit.projections.shop import T0, varied_history

NARROW = [p for p in registered_projections() if p.reads is not None]


async def history() -> list[RecordedEvent]:
    shop = varied_history([uuid.uuid4() for _ in range(12)])
    for n, step in enumerate(["cancel", "ship", "status"]):
        order = shop.order(uuid.uuid4(), 4_000 + n, T0)
        if step == "cancel":
            order.cancel("changed mind", T0 + timedelta(hours=1))
            continue
        order.mark_paid(order.outstanding, uuid.uuid4(), T0 + timedelta(hours=1))
        order.change_status(OrderStatus.PROCESSING, T0 + timedelta(hours=2), "staff")
        if step == "ship":
            order.record_shipment(uuid.uuid4(), None, T0 + timedelta(hours=3))
    store = MemoryEventStore()
    await shop.save(store)
    return await store.read_all(START, 100_000)


def test_some_projections_read_only_some_fields() -> None:
    assert OrderList().key in {p.key for p in NARROW}


@pytest.mark.parametrize("projection", NARROW, ids=lambda p: p.key)
async def test_a_projection_makes_the_same_changes_from_the_fields_it_names(
    projection: Projection,
) -> None:
    mapper = EventMapper()
    narrow = FieldsDecoder(mapper, [projection])
    events = [e for e in await history() if projection.wants(e.type)]
    assert len({e.type for e in events}) >= 4  # the corpus has many kinds of its events

    for event in events:
        full = projection.handle(event, mapper.from_recorded(event))
        assert projection.handle(event, narrow(event)) == full, event.type


async def test_only_the_named_fields_are_decoded_unless_a_projection_reads_all() -> None:
    events = await history()
    [placed, *_] = [e for e in events if e.type.endswith("Order.Placed")]

    narrow = FieldsDecoder(EventMapper(), [OrderList()])(placed)
    assert isinstance(narrow, Order.Placed)
    assert (narrow.number, narrow.totals.total.amount) > ("", 0)
    assert not hasattr(narrow, "lines")  # skipped: the order list never reads it

    class ReadsAll(OrderList):
        name = "reads_all"
        reads = None

    full = FieldsDecoder(EventMapper(), [OrderList(), ReadsAll()])(placed)
    assert full.lines  # type: ignore[attr-defined]
