"""Orders placed before routing (no ``fulfilment_plan`` in their Placed event or snapshot)
still load, as orders without a plan; new orders keep their plan through the store."""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.persistence import StoredEvent

from commerce_core.eventstore import EventMapper
from commerce_core.eventstore.records import SnapshotRecord
from commerce_core.inventory.routing import PlannedShipment
from commerce_core.ordering.order import Order
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.ordering.order_builders import new_order

PLAN = [PlannedShipment(location_id="oakland", lines=(SkuQuantity(Sku("MUG-1"), 2),))]


def placed_event(order: Order, mapper: EventMapper) -> StoredEvent:
    return mapper.to_stored_event(order.collect_events()[0])


def without(data: bytes, *names: str) -> bytes:
    state: dict[str, Any] = msgspec.json.decode(data)
    return msgspec.json.encode({k: v for k, v in state.items() if k not in names})


def test_a_placed_event_from_before_routing_loads_as_an_order_without_a_plan() -> None:
    mapper = EventMapper()
    stored = placed_event(new_order(), mapper)
    old = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        without(stored.state, "fulfilment_plan", "class_version"),
    )

    order = mapper.to_domain_event(old).mutate(None)  # type: ignore[attr-defined]

    assert isinstance(order, Order)
    assert order.fulfilment_plan == []


def test_a_new_order_keeps_its_plan_through_its_events_and_its_snapshot() -> None:
    mapper = EventMapper()
    order = new_order(fulfilment_plan=PLAN)
    stored = placed_event(order, mapper)

    replayed = mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]
    snapshotted = mapper.from_snapshot(mapper.to_snapshot(order))

    assert msgspec.json.decode(stored.state)["class_version"] == 2
    assert replayed.fulfilment_plan == PLAN
    assert isinstance(snapshotted, Order)
    assert snapshotted.fulfilment_plan == PLAN


def test_a_snapshot_from_before_routing_loads_as_an_order_without_a_plan() -> None:
    mapper = EventMapper()
    order = new_order()
    snapshot = mapper.to_snapshot(order)
    state: dict[str, Any] = msgspec.json.decode(snapshot.data)
    del state["fulfilment_plan"]
    state["class_version"] = 2
    old = SnapshotRecord(
        snapshot.stream_id, snapshot.version, snapshot.type, msgspec.json.encode(state)
    )

    loaded = mapper.from_snapshot(old)

    assert isinstance(loaded, Order)
    assert loaded.fulfilment_plan == []
