"""Inventory: receipts per location add up; levels count only live reservations."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import Repository
from commerce_core.inventory.services import (
    ReceiveStock,
    receive_stock,
    stock_items,
    stock_levels,
)
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError

CTX = CommandContext(tenant_id="acme", actor="key:1")


@pytest.fixture
def repo() -> Repository:
    return Repository(MemoryEventStore())


async def test_receipts_add_up_per_location_and_in_total(repo: Repository) -> None:
    clock = FixedClock()
    await receive_stock(repo, clock, CTX, ReceiveStock(sku="MUG-1", quantity=5))
    elsewhere = ReceiveStock(sku="MUG-1", quantity=3, location_id="warehouse-b")
    await receive_stock(repo, clock, CTX, elsewhere)
    levels = await receive_stock(repo, clock, CTX, ReceiveStock(sku="MUG-1", quantity=2))

    assert (levels.on_hand, levels.reserved, levels.available) == (10, 0, 10)
    assert [(loc.location_id, loc.on_hand) for loc in levels.locations] == [
        ("default", 7),
        ("warehouse-b", 3),
    ]


async def test_levels_stop_counting_a_reservation_at_its_expiry(repo: Repository) -> None:
    clock = FixedClock()
    await receive_stock(repo, clock, CTX, ReceiveStock(sku="MUG-1", quantity=5))
    [item] = await stock_items(repo, "acme", "MUG-1")
    item.reserve(uuid.uuid4(), 2, clock.now() + timedelta(minutes=30), clock.now())
    await repo.save(item, metadata=CTX.metadata())

    now = await stock_levels(repo, "acme", "MUG-1", clock.now())
    later = await stock_levels(repo, "acme", "MUG-1", clock.now() + timedelta(minutes=30))

    assert (now.on_hand, now.reserved, now.available) == (5, 2, 3)
    assert (later.on_hand, later.reserved, later.available) == (5, 0, 5)


async def test_an_unknown_sku_has_no_stock(repo: Repository) -> None:
    levels = await stock_levels(repo, "acme", "NOPE", FixedClock().now())
    assert (levels.on_hand, levels.available, levels.locations) == (0, 0, [])


async def test_a_receipt_of_nothing_is_refused_and_records_nothing(repo: Repository) -> None:
    with pytest.raises(InvalidValueError):
        await receive_stock(repo, FixedClock(), CTX, ReceiveStock(sku="MUG-1", quantity=0))
    assert (await stock_levels(repo, "acme", "MUG-1", FixedClock().now())).locations == []
