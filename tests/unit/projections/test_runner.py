"""The projection runner on the memory adapters: catch-up, live, failures, takeover."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.projection_locks import MemoryProjectionLocks
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.eventstore import (
    AppendStream,
    EventMetadata,
    NewEvent,
    Position,
    RecordedEvent,
    Repository,
)
from commerce_core.projections import Change, Column, ProjectionState, TableSpec, Upsert
from commerce_core.projections.live import LiveBatches
from commerce_core.projections.runner import ProjectionRunner
from tests.unit.projections.example import Cart, CartList, EventCounts

NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
LIVE = ProjectionState.LIVE


@pytest.fixture
def store() -> MemoryEventStore:
    return MemoryEventStore()


@pytest.fixture
def read_model() -> MemoryReadModel:
    return MemoryReadModel()


@pytest.fixture
def repository(store: MemoryEventStore) -> Repository:
    return Repository(store)


async def cart(repository: Repository, customer: str, *quantities: int, tenant: str = "t1") -> Cart:
    new = Cart(customer, NOW)
    for n, quantity in enumerate(quantities):
        new.add_item(f"SKU-{n}", quantity, 100)
    await repository.save(new, metadata=EventMetadata(tenant_id=tenant))
    return new


async def caught_up(runner: ProjectionRunner, store: MemoryEventStore, *names: str) -> None:
    head = await store.head()
    async with asyncio.timeout(5):
        for name in names:
            await runner.wait_for(name, head)


@pytest.fixture
async def runner(
    store: MemoryEventStore, read_model: MemoryReadModel
) -> AsyncIterator[ProjectionRunner]:
    runner = ProjectionRunner(store, read_model, [CartList(), EventCounts()], batch_size=4)
    yield runner
    await runner.stop()


async def test_a_runner_catches_up_on_history_then_follows_new_events(
    runner: ProjectionRunner,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    ann = await cart(repository, "ann", 1, 2, 3)
    await cart(repository, "bob", 5, tenant="t2")

    await runner.start()
    await caught_up(runner, store, "cart_list", "event_counts")

    row = await read_model.row("cart_list", tenant_id="t1", cart_id=ann.id)
    assert row is not None
    assert (row["customer"], row["items"], row["total"], row["status"]) == ("ann", 6, 600, "open")
    assert row["last_item"] == {"sku": "SKU-2", "quantity": 3}
    assert runner.state("cart_list") == LIVE

    ann.check_out(NOW)
    await repository.save(ann, metadata=EventMetadata(tenant_id="t1"))
    await caught_up(runner, store, "cart_list", "event_counts")

    row = await read_model.row("cart_list", tenant_id="t1", cart_id=ann.id)
    assert row is not None
    assert (row["status"], row["checked_out_at"]) == ("checked_out", NOW)
    counts = await read_model.rows("event_counts")
    assert [(r["tenant_id"], r["stream_type"], r["events"]) for r in counts] == [
        ("t1", "Cart", 5),
        ("t2", "Cart", 2),
    ]


async def test_a_deleting_event_removes_the_row(
    runner: ProjectionRunner,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    gone, kept = await cart(repository, "ann", 1), await cart(repository, "bob", 1)
    gone.discard()
    await repository.save(gone, metadata=EventMetadata(tenant_id="t1"))

    await runner.start()
    await caught_up(runner, store, "cart_list")

    assert [r["cart_id"] for r in await read_model.rows("cart_list")] == [kept.id]


async def test_a_restarted_runner_resumes_from_its_checkpoint_without_double_counting(
    store: MemoryEventStore, read_model: MemoryReadModel, repository: Repository
) -> None:
    for n in range(7):
        await cart(repository, f"c{n}", 1)
    first = ProjectionRunner(store, read_model, [EventCounts()], batch_size=3)
    await first.start()
    await caught_up(first, store, "event_counts")
    await first.stop()

    for n in range(5):
        await cart(repository, f"d{n}", 1, 1)
    second = ProjectionRunner(store, read_model, [EventCounts()], batch_size=3)
    await second.start()
    await caught_up(second, store, "event_counts")
    await second.stop()

    [row] = await read_model.rows("event_counts")
    assert row["events"] == 7 * 2 + 5 * 3
    assert [s.handled for s in await second.status()] == [15]


async def test_events_a_projection_does_not_want_are_never_decoded(
    runner: ProjectionRunner,
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
) -> None:
    # a type no module defines: decoding it would fail
    ghost = NewEvent(uuid.uuid4(), "nowhere.at.all:Ghost.Appeared", b"{}")
    await store.append([AppendStream(uuid.uuid4(), 0, [ghost])], EventMetadata(tenant_id="t1"))
    await cart(repository, "ann", 2)

    await runner.start()
    await caught_up(runner, store, "cart_list", "event_counts")

    assert len(await read_model.rows("cart_list")) == 1
    counts = await read_model.rows("event_counts")
    assert [(r["stream_type"], r["events"]) for r in counts] == [("Cart", 2), ("Ghost", 1)]
    assert {s.state for s in await runner.status()} == {LIVE}


@pytest.mark.slow
async def test_a_standby_runner_takes_over_when_the_first_stops(
    store: MemoryEventStore, read_model: MemoryReadModel, repository: Repository
) -> None:
    locks = MemoryProjectionLocks()

    def runner() -> ProjectionRunner:
        return ProjectionRunner(
            store, read_model, [EventCounts()], locks=locks, lock_retry_interval=0.01
        )

    first, second = runner(), runner()
    await first.start()
    async with asyncio.timeout(5):
        await first.wait_for_state("event_counts", LIVE)
    await second.start()
    async with asyncio.timeout(5):
        await second.wait_for_state("event_counts", ProjectionState.STANDBY)
    for n in range(3):
        await cart(repository, f"c{n}", 1)
    await caught_up(first, store, "event_counts")

    await first.stop()
    for n in range(4):
        await cart(repository, f"d{n}", 1)
    await caught_up(second, store, "event_counts")
    await second.stop()

    [row] = await read_model.rows("event_counts")
    assert row["events"] == 14
    assert [s.handled for s in await first.status()] == [6]
    assert [s.handled for s in await second.status()] == [8]


class CartListV2(CartList):
    """A new version with a column more: it builds from the first event in new tables."""

    version = 2
    tables = (
        TableSpec(
            "cart_list",
            key=CartList.tables[0].key,
            columns=[*CartList.tables[0].columns, Column("tenant_label", "text")],
        ),
    )

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        changes = super().handle(event, decoded)
        key = {"tenant_id": event.metadata.tenant_id, "cart_id": event.stream_id}
        label = event.metadata.tenant_id.upper()
        return [*changes, Upsert("cart_list", key, {"tenant_label": label})]


async def test_a_new_version_rebuilds_beside_the_old_and_serves_once_caught_up(
    store: MemoryEventStore,
    read_model: MemoryReadModel,
    repository: Repository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await cart(repository, "ann", 2)
    old = ProjectionRunner(store, read_model, [CartList()])
    await old.start()
    await caught_up(old, store, "cart_list")
    await old.stop()
    await cart(repository, "bob", 1)

    caplog.set_level(logging.INFO, logger="commerce_core.projections")
    caplog.clear()
    new = ProjectionRunner(store, read_model, [CartListV2()])
    await new.start()
    await caught_up(new, store, "cart_list")
    await new.stop()

    states = [
        r.getMessage().split(" is ")[1].split()[0]
        for r in caplog.records
        if " is " in r.getMessage()
    ]
    assert states == ["rebuilding", "live"]
    rows = await read_model.rows("cart_list")
    assert sorted((r["customer"], r["tenant_label"]) for r in rows) == [
        ("ann", "T1"),
        ("bob", "T1"),
    ]
    assert len(await read_model.rows("cart_list", version=1)) == 1
    serving = [(c.version, c.serving) for c in await read_model.checkpoints()]
    assert serving == [(1, False), (2, True)]


async def test_status_reports_position_head_and_lag(
    runner: ProjectionRunner, store: MemoryEventStore, repository: Repository
) -> None:
    await cart(repository, "ann", 1, 1)

    before = await runner.status()
    await runner.start()
    await caught_up(runner, store, "cart_list", "event_counts")
    after = await runner.status()

    head = await store.head()
    assert [(s.state, s.lag, s.head) for s in before] == [(ProjectionState.STANDBY, 3, head)] * 2
    assert [(s.state, s.lag, s.position, s.serving) for s in after] == [(LIVE, 0, head, True)] * 2
    assert [s.handled for s in after] == [3, 3]


async def test_live_batches_hand_over_everything_that_has_arrived(
    store: MemoryEventStore, repository: Repository
) -> None:
    async with LiveBatches(store, Position(0, 0), max_size=4) as live:
        await cart(repository, "ann", *range(9))  # 10 events in one append
        sizes = [len(await live.next()) for _ in range(3)]

    assert sizes == [4, 4, 2]
