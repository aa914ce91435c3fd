"""An order records where it came from: UTM attribution and the outside channel it was imported
from; orders and snapshots recorded before these existed still load."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import EventMapper, EventMetadata, Repository
from commerce_core.eventstore.records import SnapshotRecord
from commerce_core.ordering.order import (
    Attribution,
    ImportChannel,
    ImportedFrom,
    Order,
    PricedOrder,
    check_attribution,
)
from commerce_core.ordering.order.attribution import MAX_ATTRIBUTION_TEXT, MAX_ATTRIBUTION_URL
from commerce_core.shared.errors import InvalidValueError
from tests.unit.ordering.order_builders import T0, new_order

META = EventMetadata(tenant_id="tenant-1", actor="alice")
SPRING = Attribution(source="google", medium="cpc", campaign="spring", gbp_location_id="loc-9")


async def test_an_orders_attribution_and_import_survive_save_and_load() -> None:
    repository = Repository(MemoryEventStore())
    imported = ImportedFrom(
        channel=ImportChannel.ETSY,
        external_id="E-1",
        placed_at=T0 - timedelta(hours=1),
        digest="abc",
        request_id="r-1",
    )
    order = new_order()
    placed = Order.place(
        id=order.id,
        tenant_id=order.tenant_id,
        number=order.number,
        customer_id=order.customer_id,
        priced=PricedOrder(lines=order.lines, totals=order.totals, discounts=order.discounts),
        at=T0,
        attribution=SPRING,
        imported=imported,
    )
    await repository.save(placed, metadata=META)

    loaded = await repository.get(placed.id, kind=Order)

    assert loaded.attribution == SPRING
    assert loaded.imported == imported


def test_an_order_placed_before_attribution_existed_decodes_without_it() -> None:
    mapper = EventMapper()
    events = new_order().collect_events()
    stored = mapper.to_stored_event(events[0])
    state = json.loads(stored.state)
    del state["attribution"], state["imported"]  # the payload an older version recorded
    old = StoredEvent(stored.originator_id, 1, stored.topic, json.dumps(state).encode())

    placed: Any = mapper.to_domain_event(old)
    order = placed.mutate(None)

    assert isinstance(order, Order)
    assert (order.attribution, order.imported) == (None, None)


async def test_a_snapshot_taken_before_attribution_existed_loads_without_it() -> None:
    store = MemoryEventStore()
    repository = Repository(store, snapshot_every=1)
    order = new_order()
    await repository.save(order, metadata=META)
    mapper = EventMapper()
    snapshot = await store.load_snapshot(order.id)
    assert snapshot is not None
    state = json.loads(snapshot.data)
    del state["attribution"], state["imported"]
    old = SnapshotRecord(
        snapshot.stream_id, snapshot.version, snapshot.type, json.dumps(state).encode()
    )

    loaded = mapper.from_snapshot(old)

    assert isinstance(loaded, Order)
    assert (loaded.attribution, loaded.imported) == (None, None)


@pytest.mark.parametrize(
    "attribution",
    [
        Attribution(source=""),
        Attribution(campaign="x" * (MAX_ATTRIBUTION_TEXT + 1)),
        Attribution(referrer="https://a.example/" + "x" * MAX_ATTRIBUTION_URL),
        Attribution(medium="cpc\n"),
    ],
)
def test_an_empty_long_or_unprintable_attribution_value_is_refused(
    attribution: Attribution,
) -> None:
    with pytest.raises(InvalidValueError, match="attribution"):
        check_attribution(attribution)


@given(st.text(min_size=1, max_size=MAX_ATTRIBUTION_TEXT).filter(str.isprintable))
def test_any_printable_value_within_bounds_is_accepted(value: str) -> None:
    check_attribution(Attribution(source=value, term=value, landing_page=value))
