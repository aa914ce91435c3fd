"""Projections catching up together share each batch's read and decode (ADR 0048)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from eventsourcing.utils import get_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.eventstore import (
    START,
    AppendStream,
    EventMetadata,
    NewEvent,
    Position,
    RecordedEvent,
    Repository,
)
from commerce_core.projections import Change, Projection
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.projections.shared_reads import SharedReads
from tests.unit.projections.example import C, Cart, CartList, EventCounts

NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
BATCH = 4


class CountingStore(MemoryEventStore):
    """Counts the batches read from the log."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def read_all(
        self, after: Position, limit: int = 1000, tenant_id: str | None = None
    ) -> list[RecordedEvent]:
        self.reads += 1
        return await super().read_all(after, limit, tenant_id)


class Twin(CartList):
    """The cart list again, under another name, keeping what it was handed."""

    def __init__(self, name: str = "cart_twin") -> None:
        self.name = name
        self.tables = (dataclasses.replace(CartList.tables[0], name=name),)
        self.seen: dict[uuid.UUID, object] = {}

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        self.seen[event.event_id] = decoded
        changes = super().handle(event, decoded)
        return [msgspec.structs.replace(c, table=self.name) for c in changes]


class Unlucky(CartList):
    """Refuses a quantity of 13."""

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        if isinstance(decoded, C.ItemAdded) and decoded.quantity == 13:
            raise ValueError("unlucky quantity")
        return super().handle(event, decoded)


async def carts(store: MemoryEventStore, count: int, *, lucky: bool = True) -> None:
    repository = Repository(store)
    for n in range(count):
        new = Cart(f"customer-{n}", NOW)
        for k in range(n % 3 + 1):
            new.add_item(f"SKU-{k}", 13 if not lucky and n == 2 else k + 1, 100)
        if n % 4 == 3:
            new.check_out(NOW)
        await repository.save(new, metadata=EventMetadata(tenant_id=f"t{n % 2}"))


async def run(
    store: MemoryEventStore, read_model: MemoryReadModel, projections: Sequence[Projection]
) -> ProjectionRunner:
    runner = ProjectionRunner(store, read_model, projections, batch_size=BATCH)
    async with runner:
        head = await store.head()
        async with asyncio.timeout(5):
            for projection in projections:
                await runner.wait_for(projection.name, head)
    return runner


async def tables(read_model: MemoryReadModel, *names: str) -> dict[str, list[dict[str, Any]]]:
    return {name: sorted(await read_model.rows(name), key=repr) for name in names}


async def alone(store: MemoryEventStore, projection: Projection, table: str) -> list[Any]:
    read_model = MemoryReadModel()
    await run(store, read_model, [projection])
    return (await tables(read_model, table))[table]


async def test_projections_catching_up_together_read_each_batch_once() -> None:
    store = CountingStore()
    await carts(store, 20)
    events = len(await store.read_all(START, 10_000))
    store.reads = 0
    read_model = MemoryReadModel()

    runner = await run(store, read_model, [CartList(), Twin(), EventCounts()])

    batches = events // BATCH + 1
    assert runner.store_reads <= batches + 1  # one read per batch, not one per projection
    found = await tables(read_model, "cart_list", "cart_twin", "event_counts")
    assert found["cart_list"] == await alone(store, CartList(), "cart_list")
    assert found["event_counts"] == await alone(store, EventCounts(), "event_counts")
    assert [r["items"] for r in found["cart_twin"]] == [r["items"] for r in found["cart_list"]]


async def test_an_event_is_decoded_once_for_every_projection_that_decodes_it() -> None:
    store = MemoryEventStore()
    await carts(store, 10)
    first, second = Twin(), Twin("cart_twin_2")

    await run(store, MemoryReadModel(), [first, second])

    assert first.seen
    assert first.seen.keys() == second.seen.keys()
    assert all(first.seen[e] is second.seen[e] for e in first.seen)


async def test_a_poison_event_is_quarantined_for_the_projection_that_refuses_it_only() -> None:
    store = MemoryEventStore()
    await carts(store, 12, lucky=False)  # cart 2 of tenant t0 adds 13 of something
    broken = AppendStream(uuid.uuid4(), 0, [NewEvent(uuid.uuid4(), _item_added(), b"{]")])
    await store.append([broken], EventMetadata(tenant_id="t1"))
    read_model = MemoryReadModel()

    await run(store, read_model, [Unlucky(), Twin(), EventCounts()])

    unlucky = await read_model.quarantined("cart_list", 1)
    twin = await read_model.quarantined("cart_twin", 1)
    assert {e.tenant_id for e in unlucky} == {"t0", "t1"}  # its poison, and the broken event
    assert [e.stream_id for e in twin] == [broken.stream_id]  # the broken event only
    assert await read_model.quarantined("event_counts", 1) == []  # it decodes nothing
    counts = {r["tenant_id"]: r["events"] for r in await read_model.rows("event_counts")}
    assert sum(counts.values()) == len(await store.read_all(START, 10_000))


def _item_added() -> str:
    return get_topic(C.ItemAdded)


async def test_a_projection_behind_the_others_catches_up_with_them() -> None:
    store = MemoryEventStore()
    await carts(store, 9)
    read_model = MemoryReadModel()
    await run(store, read_model, [CartList()])  # ahead: at the head of the first history
    await carts(store, 15)

    await run(store, read_model, [CartList(), EventCounts()])  # event counts from the start

    found = await tables(read_model, "cart_list", "event_counts")
    assert found["cart_list"] == await alone(store, CartList(), "cart_list")
    assert found["event_counts"] == await alone(store, EventCounts(), "event_counts")


class Dying(MemoryReadModel):
    """Commits ``left`` batches, then hangs in the next: the process is gone mid-batch."""

    def __init__(self, left: int) -> None:
        super().__init__()
        self.left = left
        self.dead = asyncio.Event()

    async def apply(self, *args: Any, **kwargs: Any) -> None:
        if self.left <= 0:
            self.dead.set()
            await asyncio.Event().wait()
        self.left -= 1
        await super().apply(*args, **kwargs)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 40), st.integers(3, 30))
async def test_a_process_killed_mid_batch_resumes_without_loss_or_double_apply(
    commits: int, count: int
) -> None:
    store = MemoryEventStore()
    await carts(store, count)
    dying = Dying(commits)
    projections: list[Projection] = [CartList(), EventCounts()]
    runner = ProjectionRunner(store, dying, projections, batch_size=BATCH)
    await runner.start()
    head = await store.head()
    caught_up: asyncio.Future[object] = asyncio.ensure_future(
        asyncio.gather(*(runner.wait_for(p.name, head) for p in projections))
    )
    dead: asyncio.Future[object] = asyncio.ensure_future(dying.dead.wait())
    async with asyncio.timeout(5):
        await asyncio.wait([caught_up, dead], return_when=asyncio.FIRST_COMPLETED)
    await runner.stop()  # killed: whatever was in flight is lost
    for task in (caught_up, dead):
        task.cancel()

    dying.left = 10**9
    await run(store, dying, projections)

    found = await tables(dying, "cart_list", "event_counts")
    assert found["cart_list"] == await alone(store, CartList(), "cart_list")
    assert found["event_counts"] == await alone(store, EventCounts(), "event_counts")


async def test_a_member_waits_for_one_close_behind_but_not_for_one_far_behind() -> None:
    store = MemoryEventStore()
    await carts(store, 30)
    events = await store.read_all(START, 10_000)
    reads = SharedReads(store, 2, lambda e: None, hold=1, reach=4)
    reads.join("ahead", START)
    reads.join("behind", START)

    first = await reads.read("ahead", START)
    second = await reads.read("ahead", first.events[-1].position)
    third = asyncio.ensure_future(reads.read("ahead", second.events[-1].position))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not third.done()  # 4 events ahead of one catching up: it waits

    shared = await reads.read("behind", START)
    assert shared.events == first.events
    assert reads.reads == 2  # "behind" read nothing itself
    await reads.read("behind", first.events[-1].position)
    await asyncio.wait_for(third, 1)
    assert reads.reads == 3

    far = events[20].position  # "behind" is now 6 batches back: beyond reach
    await reads.read("ahead", far)
    assert reads.reads == 4


async def test_nobody_reads_while_a_member_is_joining_and_one_that_leaves_holds_nobody() -> None:
    store = MemoryEventStore()
    await carts(store, 5)
    reads = SharedReads(store, 2, lambda e: None)
    reads.expect("slow")  # still reading its checkpoint
    reads.join("quick", START)

    first = asyncio.ensure_future(reads.read("quick", START))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not first.done()
    reads.join("slow", START)
    await asyncio.wait_for(first, 1)

    reads.expect("failing")
    second = asyncio.ensure_future(reads.read("quick", first.result().events[-1].position))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not second.done()
    reads.leave("failing")  # its prepare failed: it retries later, alone
    await asyncio.wait_for(second, 1)
    assert reads.reads == 2


class Slow(MemoryReadModel):
    """Each commit takes a few turns of the loop, so reads pile up behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    async def apply(self, *args: Any, **kwargs: Any) -> None:
        self.commits += 1
        for _ in range(20):
            await asyncio.sleep(0)
        await super().apply(*args, **kwargs)


class NulName(CartList):
    """Names customer-5's cart with a NUL, which no read model stores: the store refuses it."""

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        changes = super().handle(event, decoded)
        if isinstance(decoded, C.Opened) and decoded.customer == "customer-5":
            changes = [msgspec.structs.replace(changes[0], values={"customer": "a\x00b"})]
        return changes


async def test_batches_read_during_a_commit_join_the_next_and_a_refusal_still_holds_one() -> None:
    store = MemoryEventStore()
    await carts(store, 30)
    events = len(await store.read_all(START, 10_000))
    slow = Slow()

    await run(store, slow, [NulName()])

    assert slow.commits < events // BATCH  # several batches a commit
    held = await slow.quarantined("cart_list", 1)
    assert (held[0].tenant_id, held[0].failed) == ("t1", True)  # and t1's later events behind it
    one_by_one = MemoryReadModel()
    runner = ProjectionRunner(store, one_by_one, [NulName()], batch_size=1)
    async with runner:
        async with asyncio.timeout(5):
            await runner.wait_for("cart_list", await store.head())
    assert (await tables(slow, "cart_list")) == (await tables(one_by_one, "cart_list"))
    assert [(e.event_id, e.failed) for e in await one_by_one.quarantined()] == [
        (e.event_id, e.failed) for e in held
    ]
