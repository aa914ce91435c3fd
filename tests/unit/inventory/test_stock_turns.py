"""Writers of one SKU take turns in a process; other SKUs and tenants do not wait."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from commerce_core.eventstore import ConcurrencyError, StreamLoad
from commerce_core.inventory.order_stock import OrderHold, hold_lines, load_stock
from commerce_core.inventory.stock import StockItem
from commerce_core.inventory.stock_turns import STOCK_TURNS, StockTurns, _holds
from commerce_core.ordering.services import CustomerRef
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.shop import STAFF, TENANT, Shop


async def test_writers_of_one_sku_never_overlap_and_the_turns_are_forgotten() -> None:
    turns = StockTurns()
    inside = 0
    most = 0

    async def write(skus: list[str]) -> None:
        nonlocal inside, most
        async with turns.turn("t1", skus):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)  # let every other writer try to get in
            inside -= 1

    # overlapping SKUs in opposite orders: sorted turns cannot wait for each other
    await asyncio.wait_for(
        asyncio.gather(*(write(["A", "B"] if n % 2 else ["B", "A"]) for n in range(20))),
        timeout=5,
    )

    assert most == 1
    assert turns.waiting() == 0


async def test_other_skus_and_other_tenants_do_not_wait() -> None:
    turns = StockTurns()
    async with turns.turn("t1", ["A"]):
        async with asyncio.timeout(1):
            async with turns.turn("t1", ["B"]), turns.turn("t2", ["A"]):
                assert turns.waiting() == 3


async def test_a_writer_that_fails_gives_its_turn_back() -> None:
    turns = StockTurns()
    with pytest.raises(RuntimeError):
        async with turns.turn("t1", ["A"]):
            raise RuntimeError("refused")
    async with asyncio.timeout(1), turns.turn("t1", ["A"]):
        pass
    assert turns.waiting() == 0


async def test_holders_in_a_row_read_the_hot_item_once_not_once_each() -> None:
    shop = Shop()
    await shop.product("MUG-1", stock=100)
    customer = CustomerRef(id=await shop.customer())
    item_id = StockItem.id_for(TENANT, "MUG-1")
    reads = 0
    load_streams = shop.store.load_streams

    async def counting(stream_ids: Sequence[UUID]) -> dict[UUID, StreamLoad]:
        nonlocal reads
        # reads in the turn: each order reads the item once before it queues, with the
        # rest of what it needs, in the same round trip (ADR 0044)
        reads += item_id in stream_ids and _holds((TENANT, "MUG-1"))
        return await load_streams(stream_ids)

    shop.store.load_streams = counting  # type: ignore[method-assign]
    shop.store.yield_on_read = True

    await asyncio.gather(*(shop.place(("MUG-1", 1), customer=customer) for _ in range(20)))

    assert reads <= 2, "each holder used the item the one before it had saved"
    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved) == (100, 20)
    assert STOCK_TURNS.waiting() == 0


async def test_kept_items_made_stale_by_another_writer_lose_their_race_and_are_read_again() -> None:
    shop = Shop()
    await shop.product("MUG-1", stock=10)
    order_id = uuid4()

    async def hold_on_a_stale_copy() -> None:
        async with STOCK_TURNS.turn(TENANT, ["MUG-1"]):
            stock = await load_stock(shop.repo, TENANT, ["MUG-1"])
            assert await load_stock(shop.repo, TENANT, ["MUG-1"]) == stock  # kept: no read
            # another process writes the item (it shares no turns with this one)
            other = await shop.repo.get(StockItem.id_for(TENANT, "MUG-1"), kind=StockItem)
            other.receive(5, shop.clock.now())
            await shop.repo.save(other, metadata=STAFF.metadata())
            now = shop.clock.now()
            hold = OrderHold(order_id, [SkuQuantity(Sku("MUG-1"), 1)])
            items = hold_lines(stock, hold, now + timedelta(minutes=5), now)
            await shop.repo.save(*items, metadata=STAFF.metadata())

    with pytest.raises(ConcurrencyError):
        await hold_on_a_stale_copy()

    assert STOCK_TURNS.waiting() == 0
    async with STOCK_TURNS.turn(TENANT, ["MUG-1"]):
        [item] = (await load_stock(shop.repo, TENANT, ["MUG-1"]))["MUG-1"]
    assert (item.on_hand, item.reservation(order_id)) == (15, None)  # read afresh


async def test_kept_items_are_never_served_to_another_tenant_nor_outside_a_turn() -> None:
    shop = Shop()
    await shop.product("MUG-1", stock=10)
    async with STOCK_TURNS.turn(TENANT, ["MUG-1"]):
        kept = await load_stock(shop.repo, TENANT, ["MUG-1"])
        assert STOCK_TURNS.kept(TENANT, "MUG-1") == kept["MUG-1"]

        async def other_tenant() -> list[StockItem] | None:
            async with STOCK_TURNS.turn("another-tenant", ["MUG-1"]):
                return STOCK_TURNS.kept("another-tenant", "MUG-1")

        assert await other_tenant() is None

        async def started_inside() -> list[StockItem] | None:
            return STOCK_TURNS.kept(TENANT, "MUG-1")

        # a task started in the turn inherits its context, not the turn
        assert await asyncio.create_task(started_inside()) is None
    assert STOCK_TURNS.kept(TENANT, "MUG-1") is None  # outside any turn: nothing kept


async def test_a_turn_that_ends_after_a_mark_is_seen_for_its_skus_and_tenant_only() -> None:
    turns = StockTurns()
    mark = turns.mark()
    assert not turns.written_since("t1", ["MUG-1"], mark)

    async with turns.turn("t1", ["MUG-1"]):
        assert not turns.written_since("t1", ["MUG-1"], mark)  # not ended yet

    assert turns.written_since("t1", ["MUG-1", "TEE-1"], mark)
    assert not turns.written_since("t1", ["TEE-1"], mark)
    assert not turns.written_since("t2", ["MUG-1"], mark)  # another tenant's SKU
    assert not turns.written_since("t1", ["MUG-1"], turns.mark())  # a mark after the turn


async def test_a_turn_ended_in_an_error_counts_as_a_write() -> None:
    turns = StockTurns()
    mark = turns.mark()

    with pytest.raises(ConcurrencyError):
        async with turns.turn("t1", ["MUG-1"]):
            raise ConcurrencyError(uuid4(), 1)

    assert turns.written_since("t1", ["MUG-1"], mark)


async def test_skus_forgotten_to_stay_bounded_count_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("commerce_core.inventory.stock_turns._REMEMBERED", 2)
    turns = StockTurns()
    mark = turns.mark()
    for sku in ("A", "B", "C"):  # A's end is dropped: it may have been written, say so
        async with turns.turn("t1", [sku]):
            pass

    assert turns.written_since("t1", ["A"], mark)
    assert turns.written_since("t1", ["never-seen"], mark)  # cannot tell: conservative
    later = turns.mark()
    assert not turns.written_since("t1", ["never-seen"], later)
