"""Writers of one SKU take turns in a process; other SKUs and tenants do not wait."""

from __future__ import annotations

import asyncio

import pytest

from commerce_core.inventory.stock_turns import StockTurns


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
