"""Orders persist: saved and loaded through the repository, from events and from snapshots."""

from __future__ import annotations

import json
import uuid
from typing import Any

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import EventMapper, EventMetadata, Repository
from commerce_core.ordering.order import DisputeOutcome, Order, OrderStatus
from commerce_core.shared.values import SkuQuantity
from tests.unit.ordering.order_builders import MUG, T1, T2, paid_order, usd

META = EventMetadata(tenant_id="tenant-1", actor="alice")


def state(order: Order) -> dict[str, Any]:
    return {k: v for k, v in vars(order).items() if k != "_pending_events"}


def busy_order() -> Order:
    order = paid_order()
    order.record_shipment(uuid.uuid4(), [SkuQuantity(MUG, 1)], T1)
    order.record_refund(usd(500), T1, reason="scratched")
    order.open_dispute("not received", T2)
    order.close_dispute(DisputeOutcome.WON, T2)
    return order


async def test_an_order_saved_and_loaded_has_the_same_state() -> None:
    repository = Repository(MemoryEventStore())
    order = busy_order()
    expected = state(order)

    await repository.save(order, metadata=META)
    loaded = await repository.get(order.id, kind=Order)

    assert state(loaded) == expected
    assert loaded.version == 6
    assert loaded.status is OrderStatus.PARTIALLY_REFUNDED


async def test_an_order_loads_from_a_snapshot_and_the_events_after_it() -> None:
    store = MemoryEventStore()
    repository = Repository(store, snapshot_every=3)
    order = busy_order()
    await repository.save(order, metadata=META)
    order.record_shipment(uuid.uuid4(), None, T2)
    await repository.save(order, metadata=META)

    snapshot = await store.load_snapshot(order.id)
    loaded = await repository.get(order.id, kind=Order)

    assert snapshot is not None
    assert snapshot.version == 6
    assert state(loaded) == state(order)
    as_of_payment = await repository.get(order.id, version=2, kind=Order)
    assert (as_of_payment.status, as_of_payment.paid) == (OrderStatus.PAID, usd(4900))


def test_order_events_are_plain_json_an_operator_can_read() -> None:
    mapper = EventMapper()
    order = busy_order()
    events = order.collect_events()

    placed = json.loads(mapper.to_new_event(events[0]).data)
    refund = json.loads(mapper.to_new_event(events[3]).data)

    assert placed["lines"][0]["unit_price"] == {"amount": 1000, "currency": "USD"}
    assert placed["totals"]["total"] == {"amount": 4900, "currency": "USD"}
    assert placed["channel"] == "api"
    assert placed["shipping_address"]["ciphertext"] == "sealed-address"
    assert refund["status"] == "partially_refunded"
    assert refund["reason"] == "scratched"
    assert mapper.to_new_event(events[0]).type.endswith("order:Order.Placed")
