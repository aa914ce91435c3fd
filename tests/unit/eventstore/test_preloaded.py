"""The preloaded view: one read up front answers a command's first reads, never a stale one."""

from __future__ import annotations

import uuid

import pytest

from adapters.memory.clock import FixedClock
from commerce_core.catalog.product import Product
from commerce_core.eventstore import (
    AggregateNotFoundError,
    ConcurrencyError,
    EventMetadata,
    Repository,
)
from commerce_core.eventstore.preloaded import preload
from commerce_core.inventory.stock import StockItem
from tests.unit.reads import CountingStore
from tests.unit.shop import TENANT

META = EventMetadata(tenant_id=TENANT, actor="test")


async def _repo_with_item() -> tuple[CountingStore, Repository, StockItem]:
    store = CountingStore()
    repo = Repository(store)
    item = StockItem.create(TENANT, "MUG-1", FixedClock().now())
    item.receive(5, FixedClock().now())
    await repo.save(item, metadata=META)
    store.calls.clear()
    return store, repo, item


async def test_preloaded_ids_are_answered_from_the_one_read_found_or_absent() -> None:
    store, repo, item = await _repo_with_item()
    absent = uuid.uuid4()

    view = await preload(repo, [item.id, absent])
    got = await view.get(item.id, kind=StockItem)
    many = await view.get_many([item.id, absent], kind=StockItem)
    with pytest.raises(AggregateNotFoundError):
        await view.get(absent)

    assert store.calls == ["load_streams"]
    assert got.available(FixedClock().now()) == 5
    assert list(many) == [item.id]


async def test_an_id_not_preloaded_is_read_from_the_store() -> None:
    store, repo, item = await _repo_with_item()

    view = await preload(repo, [uuid.uuid4()])
    found = await view.get_many([item.id], kind=StockItem)

    assert list(found) == [item.id]
    assert store.calls == ["load_streams", "load_streams"]


async def test_each_read_gets_an_aggregate_of_its_own() -> None:
    _, repo, item = await _repo_with_item()
    view = await preload(repo, [item.id])
    now = FixedClock().now()

    first = await view.get(item.id, kind=StockItem)
    first.reserve(uuid.uuid4(), 5, now.replace(year=now.year + 1), now)
    second = await view.get(item.id, kind=StockItem)

    assert second.available(now) == 5


async def test_a_preloaded_id_of_another_kind_is_not_found() -> None:
    _, repo, item = await _repo_with_item()
    view = await preload(repo, [item.id])

    with pytest.raises(AggregateNotFoundError):
        await view.get(item.id, kind=Product)
    assert await view.get_many([item.id], kind=Product) == {}


async def test_after_a_save_every_read_goes_to_the_store() -> None:
    store, repo, item = await _repo_with_item()
    view = await preload(repo, [item.id])
    changed = await view.get(item.id, kind=StockItem)
    changed.receive(3, FixedClock().now())

    await view.save(changed, metadata=META)
    store.calls.clear()
    again = await view.get(item.id, kind=StockItem)

    assert store.calls == ["load_stream"]
    assert again.available(FixedClock().now()) == 8
    assert view.preloaded == frozenset()


async def test_a_lost_race_leaves_no_stale_state_behind() -> None:
    _store, repo, item = await _repo_with_item()
    view = await preload(repo, [item.id])
    stale = await view.get(item.id, kind=StockItem)
    meanwhile = await repo.get(item.id, kind=StockItem)
    meanwhile.receive(1, FixedClock().now())
    await repo.save(meanwhile, metadata=META)
    stale.receive(2, FixedClock().now())

    with pytest.raises(ConcurrencyError):
        await view.save(stale, metadata=META)
    fresh = await view.get(item.id, kind=StockItem)

    assert fresh.available(FixedClock().now()) == 6


async def test_preloading_nothing_reads_nothing() -> None:
    store, repo, _ = await _repo_with_item()

    view = await preload(repo, [])

    assert store.calls == []
    assert view.preloaded == frozenset()
