"""The projection runner on PostgreSQL: exactly-once batches, locks and takeover."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import pytest

from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.projection_locks import PostgresProjectionLocks
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.eventstore import START, EventMetadata, Position, RecordedEvent, Repository
from commerce_core.projections import (
    Change,
    Column,
    Increment,
    Peers,
    Projection,
    ProjectionState,
    TableSpec,
)
from commerce_core.projections.quarantine import QuarantineServices, retry
from commerce_core.projections.runner import ProjectionRunner
from tests.conftest import PgSchema
from tests.integration.projections.conftest import append_events, newest_position
from tests.unit.projections.example import C, Cart, CartList, EventCounts

LIVE, STANDBY = ProjectionState.LIVE, ProjectionState.STANDBY
NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
async def locks(pg_schema: PgSchema) -> AsyncIterator[PostgresProjectionLocks]:
    locks = PostgresProjectionLocks(pg_schema.connect)
    yield locks
    await locks.close()


async def caught_up(runner: ProjectionRunner, pool: asyncpg.Pool, name: str) -> None:
    newest = await newest_position(pool)
    async with asyncio.timeout(20):
        await runner.wait_for(name, newest)


async def counted(read_model: PostgresReadModel) -> dict[str, int]:
    """Events counted per tenant, all stream types together."""
    counts: dict[str, int] = {}
    for row in await read_model.rows("event_counts"):
        counts[row["tenant_id"]] = counts.get(row["tenant_id"], 0) + row["events"]
    return counts


async def test_a_runner_catches_up_then_follows_concurrent_appends(
    pool: asyncpg.Pool,
    store: PostgresEventStore,
    read_model: PostgresReadModel,
    locks: PostgresProjectionLocks,
) -> None:
    for n in range(30):
        await append_events(store, 10, tenant=f"t{n % 3}")
    repository = Repository(store)
    ann = Cart("ann", NOW)
    ann.add_item("SKU-1", 2, 250)
    await repository.save(ann, metadata=EventMetadata(tenant_id="t0"))
    runner = ProjectionRunner(
        store, read_model, [EventCounts(), CartList()], locks=locks, batch_size=100
    )

    async with runner:
        await caught_up(runner, pool, "event_counts")
        assert await counted(read_model) == {"t0": 102, "t1": 100, "t2": 100}

        async def writer(tenant: str) -> None:
            for _ in range(25):
                await append_events(store, random.randint(1, 3), tenant)

        await asyncio.gather(*(writer(f"t{n % 3}") for n in range(8)))
        ann.check_out(NOW)
        await repository.save(ann, metadata=EventMetadata(tenant_id="t0"))
        await caught_up(runner, pool, "event_counts")
        await caught_up(runner, pool, "cart_list")
        statuses = {s.name: s for s in await runner.status()}

    stored = await store.read_all(START, 100_000)
    expected: dict[str, int] = {}
    for event in stored:
        expected[event.metadata.tenant_id] = expected.get(event.metadata.tenant_id, 0) + 1
    assert await counted(read_model) == expected
    assert statuses["event_counts"].handled == len(stored)
    assert (statuses["event_counts"].state, statuses["event_counts"].lag) == (LIVE, 0)
    [row] = await read_model.rows("cart_list")
    assert (row["status"], row["items"], row["total"]) == ("checked_out", 2, 500)


async def test_a_batch_that_fails_before_commit_leaves_rows_and_checkpoint_unchanged(
    pool: asyncpg.Pool, store: PostgresEventStore
) -> None:
    failures = 2

    async def crash_before_commit() -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise ConnectionResetError("simulated crash before commit")

    flaky = PostgresReadModel(pool, before_commit=crash_before_commit)
    await append_events(store, 50)
    runner = ProjectionRunner(store, flaky, [EventCounts()], batch_size=20, retry_interval=0.01)
    await flaky.prepare(EventCounts())

    with pytest.raises(ConnectionResetError):
        await flaky.apply(EventCounts(), [], START, Position(1, 1))
    assert [c.position for c in await flaky.checkpoints()] == [START]

    async with runner:
        await caught_up(runner, pool, "event_counts")
        [status] = await runner.status()

    assert failures == 0
    assert await counted(flaky) == {"t1": 50}
    assert status.handled == 50


@pytest.mark.slow
async def test_only_one_of_two_runners_works_and_the_other_takes_over_when_its_lock_drops(
    pg_schema: PgSchema,
    pool: asyncpg.Pool,
    store: PostgresEventStore,
    read_model: PostgresReadModel,
) -> None:
    first_locks = PostgresProjectionLocks(pg_schema.connect)
    second_locks = PostgresProjectionLocks(pg_schema.connect)
    second_pool = await pg_schema.pool(max_size=4)
    first = ProjectionRunner(
        store,
        read_model,
        [EventCounts()],
        locks=first_locks,
        lock_retry_interval=60,  # a dead process never comes back for its lock
        lease_check_interval=0.05,
    )
    second = ProjectionRunner(
        PostgresEventStore(second_pool, poll_interval=0.02),
        PostgresReadModel(second_pool),
        [EventCounts()],
        locks=second_locks,
        lock_retry_interval=0.02,
    )
    try:
        await first.start()
        async with asyncio.timeout(10):
            await first.wait_for_state("event_counts", LIVE)
        await second.start()
        async with asyncio.timeout(10):
            await second.wait_for_state("event_counts", STANDBY)
        for _ in range(10):
            await append_events(store, 3)
        await caught_up(first, pool, "event_counts")
        assert second.state("event_counts") == STANDBY

        admin = await pg_schema.connect()
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", first_locks.pid)
        finally:
            await admin.close()
        async with asyncio.timeout(10):
            await second.wait_for_state("event_counts", LIVE)
            await first.wait_for_state("event_counts", STANDBY)
        for _ in range(10):
            await append_events(store, 2)
        await caught_up(second, pool, "event_counts")
        [first_status], [second_status] = await first.status(), await second.status()
    finally:
        await first.stop()
        await second.stop()
        await first_locks.close()
        await second_locks.close()
        await second_pool.close()

    assert await counted(read_model) == {"t1": 50}
    assert first_status.handled == 30
    assert second_status.handled == 20


async def test_runners_stopped_at_random_moments_never_lose_or_double_an_event(
    pool: asyncpg.Pool,
    store: PostgresEventStore,
    read_model: PostgresReadModel,
    locks: PostgresProjectionLocks,
) -> None:
    recorded = []
    for _ in range(5):
        recorded += await append_events(store, 100)
        runner = ProjectionRunner(store, read_model, [EventCounts()], locks=locks, batch_size=7)
        await runner.start()
        target = random.choice(recorded).position
        async with asyncio.timeout(20):
            await runner.wait_for("event_counts", target)
        await runner.stop()  # cancels whatever it is doing, mid-transaction or not

    runner = ProjectionRunner(store, read_model, [EventCounts()], locks=locks)
    async with runner:
        await caught_up(runner, pool, "event_counts")

    assert await counted(read_model) == {"t1": 500}
    [checkpoint] = await read_model.checkpoints()
    assert checkpoint.position == recorded[-1].position


class CartListV2(CartList):
    version = 2
    tables = (
        TableSpec(
            "cart_list",
            key=CartList.tables[0].key,
            columns=[*CartList.tables[0].columns, Column("note", "text", default="v2")],
        ),
    )


async def test_a_new_version_builds_while_the_old_one_serves_then_takes_its_place(
    pool: asyncpg.Pool, store: PostgresEventStore, read_model: PostgresReadModel
) -> None:
    repository = Repository(store)
    for name in ("ann", "bob", "cy"):
        await repository.save(Cart(name, NOW), metadata=EventMetadata(tenant_id="t1"))
    old = ProjectionRunner(store, read_model, [CartList()])
    async with old:
        await caught_up(old, pool, "cart_list")
    served_during_rebuild: list[list[str]] = []

    async def look_at_serving_rows() -> None:
        served_during_rebuild.append(
            sorted(r.get("note", "v1") for r in await read_model.rows("cart_list"))
        )

    building = PostgresReadModel(pool, before_commit=look_at_serving_rows)
    new = ProjectionRunner(store, building, [CartListV2()], batch_size=2)
    async with new:
        await caught_up(new, pool, "cart_list")
        async with asyncio.timeout(10):
            await new.wait_for_state("cart_list", LIVE)

    assert served_during_rebuild[0] == ["v1", "v1", "v1"]
    assert [r["note"] for r in await building.rows("cart_list")] == ["v2", "v2", "v2"]
    assert [(c.version, c.serving) for c in await read_model.checkpoints()] == [
        (1, False),
        (2, True),
    ]


class Reshaped(CartList):
    """Changed its table but forgot to bump its version."""

    tables = (
        TableSpec(
            "cart_list",
            key=CartList.tables[0].key,
            columns=[*CartList.tables[0].columns[:3], Column("colour", "text")],
        ),
    )


async def test_changing_a_table_without_a_new_version_fails_the_projection(
    store: PostgresEventStore, read_model: PostgresReadModel
) -> None:
    await read_model.prepare(CartList())
    runner = ProjectionRunner(store, read_model, [Reshaped()])

    async with runner:
        async with asyncio.timeout(10):
            await runner.wait_for_state("cart_list", ProjectionState.FAILED)
        [status] = await runner.status()

    assert status.error is not None
    assert "new version" in status.error
    [checkpoint] = await read_model.checkpoints()
    assert checkpoint.state == ProjectionState.FAILED


async def test_a_sum_the_database_refuses_is_quarantined_for_its_tenant_only(
    pool: asyncpg.Pool, store: PostgresEventStore, read_model: PostgresReadModel
) -> None:
    # each change fits a bigint, but the second item makes the cart's total overflow it:
    # only PostgreSQL sees that, so the runner finds the event one at a time
    repository = Repository(store)
    big = Cart("big", NOW)
    big.add_item("A", 1, 2**62)
    big.add_item("B", 1, 2**62)
    big.add_item("C", 1, 1)
    await repository.save(big, metadata=EventMetadata(tenant_id="t1"))
    fine = Cart("fine", NOW)
    fine.add_item("A", 2, 100)
    await repository.save(fine, metadata=EventMetadata(tenant_id="t2"))
    runner = ProjectionRunner(store, read_model, [CartList()], batch_size=100)

    async with runner:
        await caught_up(runner, pool, "cart_list")
        [status] = await runner.status()

    assert status.degraded_tenants == ["t1"]
    events = await store.read_stream(big.id)
    failing, waiting = await read_model.quarantined("cart_list", 1, "t1")
    assert (failing.event_id, failing.failed) == (events[2].event_id, True)
    assert "out of range" in failing.error
    assert (waiting.event_id, waiting.failed) == (events[3].event_id, False)
    rows = {row["customer"]: row for row in await read_model.rows("cart_list")}
    assert (rows["big"]["items"], rows["big"]["total"]) == (1, 2**62)
    assert (rows["fine"]["items"], rows["fine"]["total"]) == (2, 200)


class Unlucky(CartList):
    """Refuses a quantity of 13 until ``fixed``."""

    fixed = False

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        if isinstance(decoded, C.ItemAdded) and decoded.quantity == 13 and not self.fixed:
            raise ValueError("unlucky quantity")
        return super().handle(event, decoded)


async def test_concurrent_retries_while_events_arrive_apply_each_held_event_once(
    pool: asyncpg.Pool, store: PostgresEventStore, read_model: PostgresReadModel
) -> None:
    repository = Repository(store)
    unlucky = Unlucky()
    runner = ProjectionRunner(store, read_model, [unlucky], batch_size=3)
    carts = []
    async with runner:
        for n in range(4):  # t1's first cart fails; the others wait behind it
            cart = Cart(f"c{n}", NOW)
            cart.add_item("A", 13 if n == 0 else n, 1)
            await repository.save(cart, metadata=EventMetadata(tenant_id="t1"))
            carts.append(cart)
        await caught_up(runner, pool, "cart_list")
        assert len(await read_model.quarantined("cart_list", 1, "t1")) == 7

        unlucky.fixed = True
        services = QuarantineServices(store, read_model)

        async def more() -> None:
            for n in range(4, 10):
                cart = Cart(f"c{n}", NOW)
                cart.add_item("A", n, 1)
                await repository.save(cart, metadata=EventMetadata(tenant_id="t1"))
                carts.append(cart)

        await asyncio.gather(retry(services, unlucky, "t1"), retry(services, unlucky, "t1"), more())
        await retry(services, unlucky, "t1")  # whatever the runner held meanwhile
        await caught_up(runner, pool, "cart_list")

    rows = {row["customer"]: row["items"] for row in await read_model.rows("cart_list")}
    assert rows == {"c0": 13, **{f"c{n}": n for n in range(1, 10)}}  # each applied once
    assert await read_model.quarantined() == []


class TickCounts(EventCounts):
    """Events per tenant in a table of its own: a second projection of every event."""

    name = "tick_counts"
    tables = (
        TableSpec(
            "tick_counts",
            key=("tenant_id",),
            columns=[Column("tenant_id", "text"), Column("events", "int", default=0)],
        ),
    )

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        return [Increment("tick_counts", {"tenant_id": event.metadata.tenant_id}, {"events": 1})]


def runner_on(
    pool: asyncpg.Pool,
    read_model: PostgresReadModel,
    locks: PostgresProjectionLocks,
    projections: list[Projection],
) -> ProjectionRunner:
    """A runner as another process would have it: its own pool, its own locks."""
    return ProjectionRunner(
        PostgresEventStore(pool, poll_interval=0.02),
        read_model,
        projections,
        locks=locks,
        lock_retry_interval=0.02,
        lease_check_interval=0.05,
    )


async def ticks(read_model: PostgresReadModel) -> int:
    return sum(row["events"] for row in await read_model.rows("tick_counts"))


@dataclass
class OtherProcess:
    """Another process's locks and pool on the same schema."""

    locks: PostgresProjectionLocks
    pool: asyncpg.Pool

    def runner(self, projections: list[Projection]) -> ProjectionRunner:
        return runner_on(self.pool, PostgresReadModel(self.pool), self.locks, projections)


@pytest.fixture
async def other(pg_schema: PgSchema) -> AsyncIterator[OtherProcess]:
    process = OtherProcess(
        PostgresProjectionLocks(pg_schema.connect), await pg_schema.pool(max_size=4)
    )
    yield process
    await process.locks.close()
    await process.pool.close()


async def test_runners_share_the_projections_out_and_one_takes_all_back_when_the_other_stops(
    pool: asyncpg.Pool,
    store: PostgresEventStore,
    read_model: PostgresReadModel,
    locks: PostgresProjectionLocks,
    other: OtherProcess,
) -> None:
    first = runner_on(pool, read_model, locks, [EventCounts(), TickCounts()])
    second = other.runner([EventCounts(), TickCounts()])
    async with first:
        async with asyncio.timeout(10):
            await first.wait_for_state("event_counts", LIVE)
            await first.wait_for_state("tick_counts", LIVE)
        await append_events(store, 5)
        await caught_up(first, pool, "tick_counts")
        async with second:
            # the newcomer is second of two: the projection at index 1 is its own
            async with asyncio.timeout(10):
                await second.wait_for_state("tick_counts", LIVE)
                await first.wait_for_state("tick_counts", STANDBY)
            assert (first.peers, second.peers) == (Peers(0, 2), Peers(1, 2))
            assert (first.state("event_counts"), second.state("event_counts")) == (LIVE, STANDBY)
            for _ in range(10):
                await append_events(store, 3)
            await caught_up(first, pool, "event_counts")
            await caught_up(second, pool, "tick_counts")
        await other.locks.close()  # the process is gone: its presence with it
        async with asyncio.timeout(10):
            await first.wait_for_state("tick_counts", LIVE)
        assert first.peers == Peers(0, 1)
        await append_events(store, 4)
        await caught_up(first, pool, "tick_counts")
        await caught_up(first, pool, "event_counts")
        assert [s.handled for s in await second.status()] == [0, 30]

    assert await counted(read_model) == {"t1": 39}
    assert await ticks(read_model) == 39  # handed over twice: nothing lost, nothing twice


async def test_a_projection_no_other_runner_has_is_taken_back_and_kept(
    pool: asyncpg.Pool,
    store: PostgresEventStore,
    read_model: PostgresReadModel,
    locks: PostgresProjectionLocks,
    other: OtherProcess,
) -> None:
    """A runner of an older deployment lacks a projection the share gives it: the newer
    runner takes that one back after a few tries and keeps it (no handing to and fro)."""
    first = runner_on(pool, read_model, locks, [EventCounts(), TickCounts()])
    older = other.runner([EventCounts()])
    states: list[ProjectionState] = []
    async with first:
        async with asyncio.timeout(10):
            await first.wait_for_state("tick_counts", LIVE)
        async with older:
            # handed over to nobody once the older one is seen, then taken back
            async with asyncio.timeout(10):
                await first.wait_for_state("tick_counts", STANDBY)
                await first.wait_for_state("tick_counts", LIVE)
            assert first.peers == Peers(0, 2)
            for _ in range(20):  # the runners look at each other every 20 ms meanwhile
                await append_events(store, 2)
                await caught_up(first, pool, "tick_counts")
                states.append(first.state("tick_counts"))
            assert older.state("event_counts") == STANDBY

    assert states == [LIVE] * 20
    assert await ticks(read_model) == 40
