"""Zero-downtime rebuilds and verifies, on the memory and the PostgreSQL read models alike.

A live runner keeps the projection current throughout; the rebuild builds fresh
tables beside the live ones and swaps them in, the verify compares.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.projection_locks import MemoryProjectionLocks
from adapters.memory.readmodel import MemoryReadModel
from adapters.memory.rebuilds import MemoryRebuildStore
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.readmodel import PostgresReadModel
from adapters.postgres.rebuilds import PostgresRebuildStore
from commerce_core.eventstore import EventMetadata, EventStore, Position, Repository
from commerce_core.projections import ProjectionState, ReadModelStore
from commerce_core.projections.rebuild import (
    NotStartedError,
    ProjectionRebuilder,
    RebuildRunningError,
)
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.projections.shadow import RebuildProgress, RebuildStore
from tests.conftest import PgSchema
from tests.unit.projections.example import Cart, CartList

NOW = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
LIVE_TABLE = "rm_cart_list_v1"


class Ticking:
    """A clock that moves a second each time it is read."""

    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


class Env:
    """One adapter's stores, a live runner, and ways to tamper with the live rows."""

    def __init__(
        self,
        store: EventStore,
        read_model: ReadModelStore,
        rebuilds: RebuildStore,
        pool: asyncpg.Pool | None = None,
    ) -> None:
        self.store = store
        self.read_model = read_model
        self.rebuilds = rebuilds
        self.pool = pool
        self.repository = Repository(store)
        self.runner = ProjectionRunner(store, read_model, [CartList()], batch_size=5)
        self.progress: list[RebuildProgress] = []

    def rebuilder(self, **kwargs: Any) -> ProjectionRebuilder:
        kwargs.setdefault("on_progress", self.progress.append)
        return ProjectionRebuilder(
            self.store, self.read_model, self.rebuilds, Ticking(), batch_size=5, **kwargs
        )

    async def carts(self, count: int, tenant: str = "t1") -> list[Cart]:
        made = []
        for n in range(count):
            cart = Cart(f"c{n}", NOW)
            cart.add_item("SKU", n + 1, 100)
            await self.repository.save(cart, metadata=EventMetadata(tenant_id=tenant))
            made.append(cart)
        return made

    async def caught_up(self) -> None:
        async with asyncio.timeout(10):
            await self.runner.wait_for("cart_list", await self.newest())
            # and live: a runner that started on empty tables adds their indexes first
            await self.runner.wait_for_state("cart_list", ProjectionState.LIVE)

    async def newest(self) -> Position:
        if self.pool is None:
            return await self.store.head()
        row = await self.pool.fetchrow(
            "SELECT tx_id, global_position FROM events"
            " ORDER BY tx_id DESC, global_position DESC LIMIT 1"
        )
        assert row is not None
        return Position(row[0], row[1])

    async def rows(self) -> list[dict[str, Any]]:
        return await self.read_model.rows("cart_list")

    async def tamper(self, cart_id: uuid.UUID, items: int) -> None:
        if self.pool is None:
            assert isinstance(self.read_model, MemoryReadModel)
            for row in self.read_model.tables[LIVE_TABLE].values():
                if row["cart_id"] == cart_id:
                    row["items"] = items
            return
        await self.pool.execute(
            f"UPDATE {LIVE_TABLE} SET items = $1 WHERE cart_id = $2", items, cart_id
        )

    async def remove(self, cart_id: uuid.UUID) -> None:
        if self.pool is None:
            assert isinstance(self.read_model, MemoryReadModel)
            table = self.read_model.tables[LIVE_TABLE]
            for key in [k for k, row in table.items() if row["cart_id"] == cart_id]:
                del table[key]
            return
        await self.pool.execute(f"DELETE FROM {LIVE_TABLE} WHERE cart_id = $1", cart_id)

    async def tables(self) -> set[str]:
        if self.pool is None:
            assert isinstance(self.read_model, MemoryReadModel)
            return {name for name in self.read_model.tables if name.startswith("rm_cart")}
        rows = await self.pool.fetch(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            " AND relname LIKE 'rm_cart%'"
        )
        return {row[0] for row in rows}


@pytest.fixture(params=["memory", "postgres"])
async def env(request: pytest.FixtureRequest) -> AsyncIterator[Env]:
    if request.param == "memory":
        model = MemoryReadModel()
        made = Env(MemoryEventStore(), model, MemoryRebuildStore(model))
        yield made
        await made.runner.stop()
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=10)
    made = Env(
        PostgresEventStore(pool, poll_interval=0.02),
        PostgresReadModel(pool),
        PostgresRebuildStore(pool),
        pool,
    )
    yield made
    await made.runner.stop()
    await pool.close()
    await schema.drop()


async def live_env(env: Env, carts: int = 12) -> list[Cart]:
    made = await env.carts(carts)
    await env.runner.start()
    await env.caught_up()
    return made


async def test_a_rebuild_replaces_tampered_rows_with_what_the_events_say(env: Env) -> None:
    carts = await live_env(env)
    expected, tables = await env.rows(), await env.tables()
    await env.tamper(carts[3].id, 99)
    await env.remove(carts[4].id)

    done = await env.rebuilder().rebuild(CartList())

    assert await env.rows() == expected
    assert done.status == "done"
    assert done.done == done.total == 24  # two events per cart
    # no shadow left; on PostgreSQL the view, the primary key and the indexes kept their names
    assert await env.tables() == tables


async def test_reads_during_a_rebuild_return_the_old_rows_until_the_swap(env: Env) -> None:
    carts = await live_env(env)
    await env.tamper(carts[0].id, 99)
    seen: list[int] = []

    def look(progress: RebuildProgress) -> None:
        seen.append(progress.done)

    reads: list[list[dict[str, Any]]] = []
    rebuild = asyncio.create_task(env.rebuilder(on_progress=look).rebuild(CartList()))
    while not rebuild.done():
        reads.append(await env.rows())
        await asyncio.sleep(0)
    await rebuild

    assert len(seen) > 3  # the build took several batches
    if env.pool is not None:  # memory never suspends in a rebuild; PostgreSQL reads interleave
        assert len(reads) > len(seen)
    assert all(len(rows) == len(carts) for rows in reads)  # never an empty or partial table
    items = [next(r["items"] for r in rows if r["cart_id"] == carts[0].id) for rows in reads]
    assert items[0] == 99
    assert items == sorted(items, key=lambda n: n != 99)  # old rows, then only new ones
    assert next(r for r in await env.rows() if r["cart_id"] == carts[0].id)["items"] == 1


async def test_the_live_runner_goes_on_into_the_swapped_tables(env: Env) -> None:
    await live_env(env)
    more: list[Cart] = []

    async def write_more() -> None:
        more.extend(await env.carts(6, tenant="t2"))

    writing = asyncio.create_task(write_more())
    await env.rebuilder().rebuild(CartList())
    await writing
    await env.carts(2, tenant="t3")
    await env.caught_up()

    rows = await env.rows()
    assert [r["tenant_id"] for r in rows].count("t2") == 6
    assert [r["tenant_id"] for r in rows].count("t3") == 2
    assert await env.rebuilder().verify(CartList()) == []


async def test_a_second_rebuild_works_after_the_first(env: Env) -> None:
    carts = await live_env(env, carts=3)
    await env.rebuilder().rebuild(CartList())
    await env.tamper(carts[1].id, 50)

    await env.rebuilder().rebuild(CartList())
    await env.carts(1, tenant="t9")
    await env.caught_up()

    assert sorted(r["items"] for r in await env.rows() if r["tenant_id"] == "t1") == [1, 2, 3]
    assert await env.rebuilder().verify(CartList()) == []


async def test_verify_finds_changed_missing_and_extra_rows_and_leaves_nothing_behind(
    env: Env,
) -> None:
    carts = await live_env(env)
    before = await env.tables()
    await env.tamper(carts[2].id, 77)
    await env.remove(carts[5].id)

    found = await env.rebuilder().verify(CartList())

    assert [(d.key["cart_id"], d.columns) for d in found] == sorted(
        [(carts[2].id, ["items"]), (carts[5].id, [c.name for c in _value_columns()])],
        key=lambda pair: str(pair[0]),
    )
    changed = next(d for d in found if d.key["cart_id"] == carts[2].id)
    assert changed.live is not None
    assert changed.rebuilt is not None
    assert (changed.live["items"], changed.rebuilt["items"]) == (77, 3)
    missing = next(d for d in found if d.key["cart_id"] == carts[5].id)
    assert missing.live is None
    assert await env.tables() == before
    assert env.progress[-1].kind == "verify"
    assert env.progress[-1].status == "done"


def _value_columns() -> list[Any]:
    return list(CartList().tables[0].value_columns)


async def test_verify_of_an_intact_projection_finds_nothing(env: Env) -> None:
    await live_env(env)

    assert await env.rebuilder().verify(CartList()) == []


async def test_progress_counts_events_and_reports_rate_and_eta(env: Env) -> None:
    await live_env(env, carts=10)

    await env.rebuilder().rebuild(CartList())

    running = [p for p in env.progress if p.status == "running"]
    assert [p.done for p in running] == sorted(p.done for p in running)
    assert running[-1].total == 20
    assert any(p.rate and p.eta_seconds and p.done < p.total for p in running)
    assert env.progress[-1].status == "done"
    stored = await env.rebuilds.rebuilds()
    assert [(p.name, p.kind, p.status, p.done) for p in stored] == [
        ("cart_list", "rebuild", "done", 20)
    ]


async def test_a_version_that_never_ran_cannot_be_rebuilt(env: Env) -> None:
    with pytest.raises(NotStartedError):
        await env.rebuilder().rebuild(CartList())


async def test_a_second_rebuild_of_the_same_version_is_refused_while_one_runs(env: Env) -> None:
    await live_env(env)
    locks = MemoryProjectionLocks()
    held = await locks.try_acquire("cart_list:v1:rebuild")
    assert held is not None

    with pytest.raises(RebuildRunningError):
        await env.rebuilder(locks=locks).rebuild(CartList())
    assert await env.rebuilder(locks=locks).verify(CartList()) == []  # another kind may run


class Broken(CartList):
    def handle(self, event: Any, decoded: object | None) -> list[Any]:
        if event.version == 2 and event.metadata.tenant_id == "t1":
            raise ValueError("bad handler")
        return super().handle(event, decoded)


class FailingShadow:
    """A rebuild store whose shadow writes fail (a storage fault mid-build)."""

    def __init__(self, inner: RebuildStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def apply_shadow(self, *args: Any) -> None:
        raise RuntimeError("disk full")


async def test_a_failed_rebuild_leaves_the_live_tables_serving(env: Env) -> None:
    await live_env(env, carts=3)
    expected, tables = await env.rows(), await env.tables()
    failing = ProjectionRebuilder(
        env.store,
        env.read_model,
        FailingShadow(env.rebuilds),
        Ticking(),
        batch_size=5,
        on_progress=env.progress.append,
    )

    with pytest.raises(RuntimeError, match="disk full"):
        await failing.rebuild(CartList())

    assert await env.rows() == expected
    assert await env.tables() == tables
    assert env.progress[-1].status == "failed"
    assert "disk full" in (env.progress[-1].error or "")


async def test_a_rebuild_that_quarantines_events_reports_degraded_never_done(env: Env) -> None:
    await live_env(env, carts=3)
    await env.carts(2, tenant="t2")
    await env.caught_up()

    done = await env.rebuilder().rebuild(Broken())

    # t1's first cart fails at its item; everything of t1 after it waits behind it
    assert (done.status, done.quarantined) == ("degraded", 5)
    assert "5 event(s) of 1 tenant(s) quarantined" in (done.error or "")
    assert [(r.status, r.quarantined) for r in await env.rebuilds.rebuilds()] == [("degraded", 5)]
    held = await env.read_model.quarantined("cart_list", 1)
    assert {e.tenant_id for e in held} == {"t1"}
    assert [e.failed for e in held] == [True, False, False, False, False]
    assert "bad handler" in held[0].error
    # the other tenant's rows are rebuilt whole
    assert sorted(r["items"] for r in await env.rows() if r["tenant_id"] == "t2") == [1, 2]
