"""Quarantine in the runner (memory adapters): one tenant's bad event stops only that tenant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.eventstore import EventMetadata, RecordedEvent, Repository
from commerce_core.projections import Change, ProjectionState
from commerce_core.projections.quarantine import QuarantineServices, retry, skip
from commerce_core.projections.runner import ProjectionRunner
from tests.unit.projections.example import C, Cart, CartList, EventCounts

NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)


class Unlucky(CartList):
    """Refuses to count a quantity of 13, until ``fixed``."""

    fixed = False

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        if isinstance(decoded, C.ItemAdded) and decoded.quantity == 13 and not self.fixed:
            raise ValueError("unlucky quantity")
        return super().handle(event, decoded)


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def read_model() -> MemoryReadModel:
    return MemoryReadModel()


@pytest.fixture
def repository(store: MemoryEventStore) -> Repository:
    return Repository(store)


@pytest.fixture
def unlucky() -> Unlucky:
    return Unlucky()


@pytest.fixture
async def runner(
    store: MemoryEventStore, read_model: MemoryReadModel, unlucky: Unlucky
) -> AsyncIterator[ProjectionRunner]:
    runner = ProjectionRunner(store, read_model, [unlucky, EventCounts()], batch_size=100)
    yield runner
    await runner.stop()


async def cart(
    repository: Repository, customer: str, *quantities: int, tenant: str = "t1", price: int = 100
) -> Cart:
    new = Cart(customer, NOW)
    for n, quantity in enumerate(quantities):
        new.add_item(f"SKU-{n}", quantity, price)
    await repository.save(new, metadata=EventMetadata(tenant_id=tenant))
    return new


async def caught_up(runner: ProjectionRunner, store: MemoryEventStore) -> None:
    async with asyncio.timeout(5):
        await runner.wait_for("cart_list", await store.head())
        await runner.wait_for("event_counts", await store.head())


async def items(read_model: MemoryReadModel, tenant: str, cart: Cart) -> int | None:
    row = await read_model.row("cart_list", tenant_id=tenant, cart_id=cart.id)
    return None if row is None else int(row["items"])


async def test_an_event_a_projection_cannot_apply_is_quarantined_for_its_tenant_only(
    runner: ProjectionRunner,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    ann = await cart(repository, "ann", 1, 13, 2)
    bob = await cart(repository, "bob", 5, tenant="t2")

    await runner.start()
    await caught_up(runner, store)

    assert runner.state("cart_list") == ProjectionState.LIVE
    [status, counts] = await runner.status()
    assert status.degraded_tenants == ["t1"]
    assert status.lag == 0  # the checkpoint went past the held events
    assert counts.degraded_tenants == []
    assert await items(read_model, "t1", ann) == 1  # stopped just before the failing event
    assert await items(read_model, "t2", bob) == 5
    failing, held = await read_model.quarantined("cart_list", 1, "t1")
    events = await store.read_stream(ann.id)
    assert (failing.event_id, failing.failed) == (events[2].event_id, True)
    assert failing.error == "ValueError: unlucky quantity"
    assert (failing.position, failing.event_type) == (events[2].position, events[2].type)
    assert (held.event_id, held.failed) == (events[3].event_id, False)
    assert str(failing.event_id) in held.error
    assert await read_model.quarantined(tenant_id="t2") == []
    stored = await read_model.checkpoint("cart_list", 1)
    assert stored is not None
    assert stored.state == ProjectionState.LIVE


async def test_later_events_of_a_quarantined_tenant_are_held_in_order_others_are_applied(
    runner: ProjectionRunner,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    await cart(repository, "ann", 13)
    await runner.start()
    await caught_up(runner, store)

    later = await cart(repository, "cy", 3)  # same tenant, another cart, live
    bob = await cart(repository, "bob", 4, tenant="t2")
    await caught_up(runner, store)

    assert await items(read_model, "t1", later) is None
    assert await items(read_model, "t2", bob) == 4
    held = await read_model.quarantined("cart_list", 1, "t1")
    assert [e.event_id for e in held[1:]] == [e.event_id for e in await store.read_stream(later.id)]
    assert [e.position for e in held] == sorted(e.position for e in held)


async def test_retry_after_a_fix_applies_the_held_events_in_order_and_the_tenant_goes_on(
    runner: ProjectionRunner,
    unlucky: Unlucky,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    ann = await cart(repository, "ann", 1, 13, 2)
    await runner.start()
    await caught_up(runner, store)
    ann.check_out(NOW)
    await repository.save(ann, metadata=EventMetadata(tenant_id="t1"))
    await caught_up(runner, store)

    unlucky.fixed = True
    [done] = await retry(QuarantineServices(store, read_model), unlucky, "t1")

    assert (done.applied, done.held, done.error) == (3, 0, None)
    row = await read_model.row("cart_list", tenant_id="t1", cart_id=ann.id)
    assert row is not None
    assert (row["items"], row["status"]) == (16, "checked_out")  # applied in order
    assert await read_model.quarantined() == []
    # the runner sees the release and applies the tenant's new events at once
    cy = await cart(repository, "cy", 7)
    await caught_up(runner, store)
    assert await items(read_model, "t1", cy) == 7
    [status, _] = await runner.status()
    assert status.degraded_tenants == []


async def test_retry_without_a_fix_keeps_the_event_quarantined(
    runner: ProjectionRunner,
    unlucky: Unlucky,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    ann = await cart(repository, "ann", 13, 2)
    await runner.start()
    await caught_up(runner, store)
    before = await read_model.quarantined()

    [done] = await retry(QuarantineServices(store, read_model), unlucky)

    assert (done.tenant_id, done.applied, done.held) == ("t1", 0, 2)
    assert done.error == "ValueError: unlucky quantity"
    assert await read_model.quarantined() == before
    assert await items(read_model, "t1", ann) == 0


async def test_skip_drops_the_failing_event_and_applies_the_rest(
    runner: ProjectionRunner,
    unlucky: Unlucky,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    ann = await cart(repository, "ann", 1, 13, 2)
    await runner.start()
    await caught_up(runner, store)
    failing = (await store.read_stream(ann.id))[2]

    done = await skip(QuarantineServices(store, read_model), unlucky, "t1", failing.event_id)

    assert (done.skipped, done.applied, done.held) == (1, 1, 0)
    assert await items(read_model, "t1", ann) == 3
    assert await read_model.quarantined() == []


async def test_skip_refuses_an_event_that_is_not_the_tenants_first_held(
    runner: ProjectionRunner,
    unlucky: Unlucky,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    ann = await cart(repository, "ann", 13, 2)
    await runner.start()
    await caught_up(runner, store)
    waiting = (await store.read_stream(ann.id))[2]

    with pytest.raises(LookupError, match="first"):
        await skip(QuarantineServices(store, read_model), unlucky, "t1", waiting.event_id)
    with pytest.raises(LookupError):
        await skip(QuarantineServices(store, read_model), unlucky, "t2")  # t2 holds nothing

    assert len(await read_model.quarantined()) == 2


async def test_an_amount_that_overflows_its_column_is_quarantined_at_its_event(
    store: MemoryEventStore, read_model: MemoryReadModel, repository: Repository
) -> None:
    # the order: 4 units at 2**62 make a total no bigint column can hold
    huge = await cart(repository, "big", 4, price=2**62)
    fine = await cart(repository, "ok", 4, tenant="t2")
    runner = ProjectionRunner(store, read_model, [CartList()], batch_size=100)
    await runner.start()
    try:
        async with asyncio.timeout(5):
            await runner.wait_for("cart_list", await store.head())
    finally:
        await runner.stop()

    [failing] = await read_model.quarantined("cart_list")
    assert failing.event_id == (await store.read_stream(huge.id))[1].event_id
    assert failing.error.startswith("InvalidChangeError")
    assert await items(read_model, "t2", fine) == 4
    assert await items(read_model, "t1", huge) == 0


async def test_a_restarted_runner_keeps_holding_a_quarantined_tenant(
    store: MemoryEventStore, read_model: MemoryReadModel, repository: Repository
) -> None:
    await cart(repository, "ann", 13)
    first = ProjectionRunner(store, read_model, [Unlucky()], batch_size=10)
    await first.start()
    async with asyncio.timeout(5):
        await first.wait_for("cart_list", await store.head())
    await first.stop()

    later = await cart(repository, "cy", 3)
    second = ProjectionRunner(store, read_model, [Unlucky()], batch_size=10)
    await second.start()
    try:
        async with asyncio.timeout(5):
            await second.wait_for("cart_list", await store.head())
        [status] = await second.status()
    finally:
        await second.stop()

    assert status.degraded_tenants == ["t1"]
    assert await items(read_model, "t1", later) is None
    assert len(await read_model.quarantined("cart_list", 1, "t1")) == 3  # 13, then cy's two
