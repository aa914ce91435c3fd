"""Concurrent buyers of the last units: each unit is sold once, the rest are told no."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from commerce_core.eventstore import (
    AppendStream,
    ConcurrencyError,
    EventMetadata,
    RecordedEvent,
)
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.ordering import services as ordering_services
from commerce_core.ordering.order import Order
from commerce_core.ordering.services import CustomerRef
from tests.unit.shop import Shop


@pytest.mark.parametrize("turns", [True, False], ids=["one process", "racing processes"])
async def test_fifty_concurrent_orders_for_the_last_ten_units_reserve_exactly_ten(
    turns: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not turns:  # buyers in different processes do not share turns: they race (ADR 0046)
        monkeypatch.setattr(ordering_services, "in_turn", lambda tenant, skus, command: command)
    shop = Shop()
    await shop.product("MUG-1", stock=10)
    customer = CustomerRef(id=await shop.customer())
    shop.store.yield_on_read = True  # every load lets the other buyers run: they interleave
    conflicts = 0
    append = shop.store.append

    async def counting_append(
        streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        nonlocal conflicts
        try:
            return await append(streams, metadata)
        except ConcurrencyError:
            conflicts += 1
            raise

    shop.store.append = counting_append  # type: ignore[method-assign]

    outcomes = await asyncio.gather(
        *(shop.place(("MUG-1", 1), customer=customer) for _ in range(50)),
        return_exceptions=True,
    )

    placed = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStockError)]
    assert (len(placed), len(refused)) == (10, 40), outcomes
    if turns:
        # a buyer reads the item with the rest of its order before it queues (ADR 0044): one
        # that reaches an empty queue after the last holder saved loses its append once
        assert conflicts <= 2, "buyers in one process take turns on the stock item"
    else:
        assert conflicts > 0, "the buyers raced on the stock item"
    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved, levels.available) == (10, 10, 0)
    assert len({order.number for order in placed}) == 10
