"""What placing an order reads: everything in one read, and never a stale answer."""

from __future__ import annotations

import asyncio

import pytest

from commerce_core.catalog.product import Product
from commerce_core.eventstore import AggregateNotFoundError, ConcurrencyError
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.ordering.services import CustomerRef
from tests.unit.reads import CountingStore
from tests.unit.shop import TENANT, Shop, keyed


async def _shop(
    *skus: str, stock: int = 10, location: str = "default"
) -> tuple[Shop, CountingStore]:
    store = CountingStore()
    shop = Shop(store=store)
    for sku in skus:
        await shop.product(sku, stock=stock, location=location)
    return shop, store


async def test_an_order_of_three_lines_is_one_read_and_one_append() -> None:
    shop, store = await _shop("MUG-1", "TEE-1", "CAP-1")
    customer = CustomerRef(id=await shop.customer())
    store.calls.clear()

    order = await shop.place(("MUG-1", 1), ("TEE-1", 2), ("CAP-1", 3), customer=customer)

    assert store.calls == ["load_streams", "append"]
    assert [line.quantity for line in order.lines] == [1, 2, 3]
    assert (await shop.levels("TEE-1")).reserved == 2


async def test_a_retried_command_is_answered_from_the_one_read() -> None:
    shop, store = await _shop("MUG-1")
    customer = CustomerRef(id=await shop.customer())
    first = await shop.place(("MUG-1", 1), customer=customer, ctx=keyed("k-1"))
    store.calls.clear()

    again = await shop.place(("MUG-1", 1), customer=customer, ctx=keyed("k-1"))

    assert again.id == first.id
    assert store.calls == ["load_streams"]
    assert (await shop.levels("MUG-1")).reserved == 1


async def test_stock_at_another_location_costs_one_more_read_and_is_held_there() -> None:
    shop, store = await _shop("MUG-1", location="north")
    customer = CustomerRef(id=await shop.customer())
    store.calls.clear()

    order = await shop.place(("MUG-1", 4), customer=customer)

    assert store.calls == ["load_streams", "load_streams", "append"]
    assert [s.location_id for s in order.fulfilment_plan] == ["north"]
    assert (await shop.levels("MUG-1")).reserved == 4


async def test_a_lost_race_is_retried_on_state_read_again() -> None:
    shop, store = await _shop("MUG-1", stock=3)
    customer = CustomerRef(id=await shop.customer())
    await shop.place(("MUG-1", 1), customer=customer)
    store.planned = [ConcurrencyError(Product.id_for(TENANT, "MUG-1"), 1)]  # a lost race
    store.calls.clear()

    order = await shop.place(("MUG-1", 2), customer=customer)

    # the second attempt reads the customer, then the SKU's locations and its items afresh
    # in one read (the item at the default location guessed: ADR 0047)
    assert store.calls == ["load_streams", "append", "load_stream", "load_streams", "append"]
    assert (await shop.levels("MUG-1")).reserved == 3
    assert order.lines[0].quantity == 2


async def test_a_refused_order_appends_nothing_and_leaves_its_key_usable() -> None:
    shop, _store = await _shop("MUG-1", stock=2)
    customer = CustomerRef(id=await shop.customer())
    before = len(await shop.events())

    with pytest.raises(InsufficientStockError):
        await shop.place(("MUG-1", 5), customer=customer, ctx=keyed("k-1"))
    assert len(await shop.events()) == before
    await shop.product("MUG-1", stock=3)  # more units arrive
    placed = await shop.place(("MUG-1", 5), customer=customer, ctx=keyed("k-1"))
    again = await shop.place(("MUG-1", 5), customer=customer, ctx=keyed("k-1"))

    assert again.id == placed.id
    assert (await shop.levels("MUG-1")).reserved == 5


async def test_a_customer_id_naming_something_else_is_not_found() -> None:
    shop, _store = await _shop("MUG-1")
    product_id = Product.id_for(TENANT, "MUG-1")  # preloaded, as a product
    before = len(await shop.events())

    with pytest.raises(AggregateNotFoundError):
        await shop.place(("MUG-1", 1), customer=CustomerRef(id=product_id))
    assert len(await shop.events()) == before


async def test_requests_sharing_a_key_all_get_the_one_order_and_its_new_customer() -> None:
    shop, store = await _shop("MUG-1", stock=5)
    store.yield_on_read = True  # all of them read before the first one saves

    orders = await asyncio.gather(
        *(
            shop.place(("MUG-1", 2), customer=CustomerRef(email="new@example.com"), ctx=keyed("k"))
            for _ in range(6)
        )
    )

    assert len({order.id for order in orders}) == 1
    assert len({order.customer_id for order in orders}) == 1
    assert (await shop.levels("MUG-1")).reserved == 2
    placed = [e for e in await shop.events() if e.type.endswith("Order.Placed")]
    assert len(placed) == 1
