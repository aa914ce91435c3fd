"""Event store benchmark: our PostgreSQL event store next to `eventsourcing`'s and raw asyncpg.

Run with `make bench` (or `.venv/bin/python bench/eventstore.py`) against a local PostgreSQL named
by ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``). Each system gets
its own fresh schema, dropped at the end.

1. Appends: each append is one new aggregate with 2 events, from 1, 4 and 16 writers. The systems
   take turns, ``BENCH_ROUNDS`` times (default 3) for ``BENCH_SECONDS`` each (default 2.5), and the
   median round counts, so a burst of other load on the machine does not pick the winner.
2. Reads: 200,000 events read in the global order, in batches of 1,000.
3. Loads: one aggregate with 10,000 events, with and without a snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from adapters.postgres.connection import create_pool, init_connection, server_settings
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.migrate import migrate
from commerce_core.eventstore import (
    START,
    AppendStream,
    EventMapper,
    EventMetadata,
    NewEvent,
    Position,
    Repository,
)

DSN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECONDS = float(os.environ.get("BENCH_SECONDS", "2.5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP_SECONDS = 0.25
WRITERS = (1, 4, 16)
CONNECTIONS = max(WRITERS)
READ_EVENTS = 200_000
READ_BATCH = 1_000
READ_REPEATS = 3
LOAD_EVENTS = 10_000
LOAD_REPEATS = 5
METADATA = EventMetadata(tenant_id="bench", actor="bench")


class Cart(Aggregate):
    """A small real aggregate: created, then changed once, so a save carries 2 events."""

    customer: str
    items: int

    @event("Created")
    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.items = 0

    def add_item(self, sku: str, quantity: int) -> None:
        self._item_added(sku, quantity)

    @event("ItemAdded")
    def _item_added(self, sku: str, quantity: int) -> None:
        self.items += quantity


def new_cart() -> Cart:
    cart = Cart(customer="customer-42")
    cart.add_item("sku-1", 2)
    return cart


# A cart's two events as our mapper stores them; the systems without a mapper append these.
SAMPLE = [EventMapper().to_new_event(e) for e in new_cart().collect_events()]


# -- schemas and connections ---------------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_schema(*, migrated: bool = True) -> AsyncIterator[str]:
    """A new schema (with our tables when ``migrated``), dropped on exit."""
    name = f"bench_{uuid4().hex[:10]}"
    admin = await asyncpg.connect(DSN)
    try:
        await admin.execute(f"CREATE SCHEMA {name}")
        if migrated:
            conn = await asyncpg.connect(DSN, server_settings=server_settings(name))
            try:
                await migrate(conn)
            finally:
                await conn.close()
        yield name
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await admin.close()


@contextlib.asynccontextmanager
async def our_pool(schema: str) -> AsyncIterator[asyncpg.Pool]:
    """The pool the service uses (``create_pool``), with every connection open up front."""
    pool = await create_pool(DSN, schema=schema, min_size=CONNECTIONS, max_size=CONNECTIONS)
    try:
        yield pool
    finally:
        await pool.close()


async def count_rows(table: str) -> int:
    conn = await asyncpg.connect(DSN)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


def eventsourcing_app(schema: str, pool_size: int) -> Application[UUID]:
    """`eventsourcing`'s Application on its own PostgreSQL persistence, in ``schema``."""
    url = urlsplit(DSN)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/"),
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_PASSWORD": url.password or "",
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": "0",
    }
    return Application[UUID](env=env)


@contextlib.asynccontextmanager
async def eventsourcing_in_fresh_schema(
    pool_size: int,
) -> AsyncIterator[tuple[str, Application[UUID]]]:
    async with fresh_schema(migrated=False) as schema:
        app = await asyncio.to_thread(eventsourcing_app, schema, pool_size)
        try:
            yield schema, app
        finally:
            await asyncio.to_thread(app.close)


# -- 1. appends ----------------------------------------------------------------------------

# One append by the writer with this number (0 to writers - 1).
AppendOne = Callable[[int], Awaitable[Any]]


async def run_tasks(writers: int, seconds: float, append_one: AppendOne) -> int:
    """Appends from ``writers`` concurrent tasks until ``seconds`` pass; returns the count."""
    deadline = time.perf_counter() + seconds

    async def writer(number: int) -> int:
        count = 0
        while time.perf_counter() < deadline:
            await append_one(number)
            count += 1
        return count

    return sum(await asyncio.gather(*(writer(n) for n in range(writers))))


def run_threads(writers: int, seconds: float, append_one: Callable[[], Any]) -> int:
    """Appends from ``writers`` threads until ``seconds`` pass; returns the count."""
    deadline = time.perf_counter() + seconds

    def writer() -> int:
        count = 0
        while time.perf_counter() < deadline:
            append_one()
            count += 1
        return count

    with ThreadPoolExecutor(writers) as executor:
        futures = [executor.submit(writer) for _ in range(writers)]
        return sum(f.result() for f in futures)


@dataclass
class System:
    """One way to append new carts; it counts its appends to check them against its table."""

    name: str
    run: Callable[[int, float], Awaitable[int]]  # (writers, seconds) -> appends made
    table: str
    appended: int = 0

    async def measure(self, writers: int) -> float:
        """Aggregates per second over one timed run, after a short warm-up."""
        self.appended += await self.run(writers, WARMUP_SECONDS)
        start = time.perf_counter()
        count = await self.run(writers, SECONDS)
        self.appended += count
        return count / (time.perf_counter() - start)

    async def check(self) -> None:
        stored = await count_rows(self.table)
        if stored != 2 * self.appended:
            raise RuntimeError(f"{self.name}: {stored} events stored for {self.appended} carts")


@contextlib.asynccontextmanager
async def ours_repository() -> AsyncIterator[System]:
    async with fresh_schema() as schema, our_pool(schema) as pool:
        repository = Repository(PostgresEventStore(pool))

        async def save(_: int) -> None:
            await repository.save(new_cart(), metadata=METADATA)

        yield System(
            "ours Repository.save", partial(run_tasks, append_one=save), f"{schema}.events"
        )


def sample_streams() -> list[AppendStream]:
    """A new stream with the sample events under fresh ids: what saving a cart appends."""
    return [AppendStream(uuid4(), 0, [NewEvent(uuid4(), e.type, e.data) for e in SAMPLE])]


@contextlib.asynccontextmanager
async def ours_append() -> AsyncIterator[System]:
    async with fresh_schema() as schema, our_pool(schema) as pool:
        store = PostgresEventStore(pool)

        async def append(_: int) -> None:
            await store.append(sample_streams(), METADATA)

        name = "ours PostgresEventStore.append"
        yield System(name, partial(run_tasks, append_one=append), f"{schema}.events")


@contextlib.asynccontextmanager
async def eventsourcing_postgres() -> AsyncIterator[System]:
    async with eventsourcing_in_fresh_schema(CONNECTIONS) as (schema, app):

        def save() -> None:
            app.save(new_cart())

        async def run(writers: int, seconds: float) -> int:
            return await asyncio.to_thread(run_threads, writers, seconds, save)

        table = f"{schema}.{app.recorder.events_table_name}"  # type: ignore[attr-defined]
        yield System("eventsourcing Application.save", run, table)


RAW_COLUMNS = (
    "stream_id, version, event_id, type, data,"
    " tenant_id, correlation_id, causation_id, actor, recorded_at"
)
RAW_INSERT = f"""
INSERT INTO events ({RAW_COLUMNS}) VALUES
($1, $2, $3, $4, $5, $6, $7, $8, $9, $10), ($11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
"""


def raw_args() -> list[Any]:
    """The 20 parameters of ``RAW_INSERT``: both rows of a new cart, every column."""
    stream_id, recorded_at = uuid4(), datetime.now(UTC)
    rows = [
        (stream_id, version, uuid4(), e.type, e.data, "bench", None, None, "bench", recorded_at)
        for version, e in enumerate(SAMPLE, start=1)
    ]
    return [value for row in rows for value in row]


@contextlib.asynccontextmanager
async def raw_asyncpg() -> AsyncIterator[System]:
    """Plain INSERTs into our table, each writer on its own connection: the database's limit."""
    async with fresh_schema() as schema, contextlib.AsyncExitStack() as stack:
        conns = []
        for _ in range(CONNECTIONS):
            conn = await asyncpg.connect(DSN, server_settings=server_settings(schema))
            stack.push_async_callback(conn.close)
            await init_connection(conn)  # jsonb as raw bytes, as ours sends it
            conns.append(conn)

        async def insert(writer: int) -> None:
            await conns[writer].execute(RAW_INSERT, *raw_args())

        name = "raw asyncpg INSERT"
        yield System(name, partial(run_tasks, append_one=insert), f"{schema}.events")


SYSTEMS = {
    "ours": ours_repository,
    "ours-append": ours_append,
    "eventsourcing": eventsourcing_postgres,
    "raw": raw_asyncpg,
}


async def bench_appends() -> tuple[dict[str, str], dict[tuple[str, int], list[float]]]:
    """Aggregates/s of every round, per system and writer count; systems take turns."""
    rates: dict[tuple[str, int], list[float]] = defaultdict(list)
    async with contextlib.AsyncExitStack() as stack:
        systems = {key: await stack.enter_async_context(open_()) for key, open_ in SYSTEMS.items()}
        for _ in range(ROUNDS):
            for writers in WRITERS:
                for key, system in systems.items():
                    rates[key, writers].append(await system.measure(writers))
        for system in systems.values():
            await system.check()
    return {key: system.name for key, system in systems.items()}, rates


def print_appends(names: dict[str, str], rates: dict[tuple[str, int], list[float]]) -> None:
    print(f"\n1. Appends: a new aggregate with 2 events per append; median of {ROUNDS} runs")
    print(f"   of {SECONDS:g} s each (the range shows how noisy the machine was)")
    header = f"{'system':<32}{'writers':>8}{'aggregates/s':>14}{'events/s':>10}{'range':>16}"
    print(header)
    median = {run: statistics.median(samples) for run, samples in rates.items()}
    for (key, writers), samples in rates.items():
        spread = f"{min(samples):,.0f}-{max(samples):,.0f}"
        rate = median[key, writers]
        print(f"{names[key]:<32}{writers:>8}{rate:>14,.0f}{2 * rate:>10,.0f}{spread:>16}")
    print(f"\n{'writers':>8}{'ours/eventsourcing':>20}{'ours/raw':>10}{'ours-append/raw':>17}")
    for writers in WRITERS:
        ours, raw = median["ours", writers], median["raw", writers]
        versus_theirs = ours / median["eventsourcing", writers]
        print(
            f"{writers:>8}{versus_theirs:>19.1f}x{ours / raw:>9.2f}x"
            f"{median['ours-append', writers] / raw:>16.2f}x"
        )
    top = max(WRITERS)
    versus_theirs = median["ours", top] / median["eventsourcing", top]
    versus_raw = median["ours", top] / median["raw", top]
    print(
        f"goals at {top} writers: ours >= 8x eventsourcing {verdict(versus_theirs >= 8)}"
        f" ({versus_theirs:.1f}x); ours >= 0.6x raw {verdict(versus_raw >= 0.6)}"
        f" ({versus_raw:.2f}x)"
    )


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


# -- 2. reads ------------------------------------------------------------------------------


def read_records(count: int) -> list[tuple[Any, ...]]:
    """``count`` events of ``count / 2`` carts, as rows for COPY."""
    recorded_at = datetime.now(UTC)
    return [
        (stream_id, version, uuid4(), e.type, e.data, "bench", "bench", recorded_at)
        for stream_id in (uuid4() for _ in range(count // 2))
        for version, e in enumerate(SAMPLE, start=1)
    ]


async def fill_events(pool: asyncpg.Pool, schema: str, count: int) -> None:
    """COPY in chunks, one transaction each, so the rows span several ``tx_id``s."""
    records = read_records(count)
    columns: tuple[str, ...]
    columns = ("stream_id", "version", "event_id", "type", "data", "tenant_id", "actor")
    columns += ("recorded_at",)
    chunk = 20_000
    async with pool.acquire() as conn:
        for start in range(0, count, chunk):
            await conn.copy_records_to_table(
                "events",
                records=records[start : start + chunk],
                columns=columns,
                schema_name=schema,
            )
        await conn.execute("VACUUM ANALYZE events")


async def read_ours(store: PostgresEventStore) -> int:
    count, after = 0, START
    while batch := await store.read_all(after, READ_BATCH):
        count += len(batch)
        after = batch[-1].position
    return count


READ_COLUMNS = f"tx_id, global_position, {RAW_COLUMNS}"
RAW_PAGE = f"""
SELECT {READ_COLUMNS} FROM events WHERE (tx_id, global_position) > ($1::xid8, $2::bigint)
ORDER BY tx_id, global_position LIMIT $3
"""


async def read_raw_pages(pool: asyncpg.Pool) -> int:
    count, after = 0, Position(0, 0)
    while rows := await pool.fetch(RAW_PAGE, after[0], after[1], READ_BATCH):
        count += len(rows)
        after = Position(rows[-1][0], rows[-1][1])
    return count


async def read_raw_all(pool: asyncpg.Pool) -> int:
    rows = await pool.fetch(f"SELECT {READ_COLUMNS} FROM events ORDER BY tx_id, global_position")
    return len(rows)


def fill_eventsourcing(app: Application[UUID], count: int) -> None:
    """The same number of carts through its recorder, 10,000 events per insert."""
    stored = [app.mapper.to_stored_event(e) for e in new_cart().collect_events()]
    for _ in range(0, count, 10_000):
        batch = [
            StoredEvent(stream_id, s.originator_version, s.topic, s.state)
            for stream_id in (uuid4() for _ in range(10_000 // len(stored)))
            for s in stored
        ]
        app.recorder.insert_events(batch)


def read_eventsourcing(app: Application[UUID]) -> int:
    count, start = 0, 1
    recorder = app.recorder
    while batch := recorder.select_notifications(start, READ_BATCH):
        count += len(batch)
        start = batch[-1].id + 1
    return count


async def timed(label: str, read: Callable[[], Awaitable[int]]) -> tuple[str, int, float]:
    """The median time of ``READ_REPEATS`` full reads."""
    samples = []
    for _ in range(READ_REPEATS):
        start = time.perf_counter()
        count = await read()
        samples.append(time.perf_counter() - start)
    return label, count, statistics.median(samples)


async def bench_reads() -> list[tuple[str, int, float]]:
    async with fresh_schema() as schema:
        pool = await create_pool(DSN, schema=schema, min_size=1, max_size=2)
        try:
            await fill_events(pool, schema, READ_EVENTS)
            store = PostgresEventStore(pool)
            await read_raw_all(pool)  # brings the table into memory for every reader alike
            results = [
                await timed("raw asyncpg, one SELECT ... ORDER BY", partial(read_raw_all, pool)),
                await timed("raw asyncpg, keyset pages", partial(read_raw_pages, pool)),
                await timed("ours read_all", partial(read_ours, store)),
            ]
        finally:
            await pool.close()
    async with eventsourcing_in_fresh_schema(1) as (_, app):
        await asyncio.to_thread(fill_eventsourcing, app, READ_EVENTS)
        label = "eventsourcing select_notifications"
        results.append(await timed(label, partial(asyncio.to_thread, read_eventsourcing, app)))
    return results


def print_reads(results: list[tuple[str, int, float]]) -> None:
    print(f"\n2. Reads: {READ_EVENTS:,} events in the global order, batches of {READ_BATCH:,}")
    print(f"   (median of {READ_REPEATS})")
    print(f"{'reader':<40}{'events':>9}{'seconds':>9}{'events/s':>12}")
    for label, count, seconds in results:
        print(f"{label:<40}{count:>9,}{seconds:>9.2f}{count / seconds:>12,.0f}")


# -- 3. aggregate loads --------------------------------------------------------------------


async def median_ms(action: Callable[[], Awaitable[Any]], repeats: int = LOAD_REPEATS) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        await action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


async def without_gc(action: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Shows what collections triggered by the many small objects of a replay cost."""
    gc.disable()
    try:
        return await action(*args)
    finally:
        gc.enable()


async def saved_cart(repository: Repository, events: int) -> Cart:
    cart = Cart(customer="customer-42")
    for _ in range(events - 1):
        cart.add_item("sku-1", 1)
    await repository.save(cart, metadata=METADATA)
    return cart


SMALL_EVENTS = 6  # about an order's or a payment's length
SMALL_REPEATS = 500
RAW_STREAM = f"SELECT {READ_COLUMNS} FROM events WHERE stream_id = $1 ORDER BY version"


async def bench_loads() -> list[tuple[str, float]]:
    async with fresh_schema() as schema:
        pool = await create_pool(DSN, schema=schema, min_size=1, max_size=2)
        try:
            store = PostgresEventStore(pool)
            repository = Repository(store)
            mapper = repository.mapper
            cart_id = (await saved_cart(repository, LOAD_EVENTS)).id
            records = await store.read_stream(cart_id)

            async def decode() -> None:
                for recorded in records:
                    mapper.from_recorded(recorded)

            actions: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
                ("raw asyncpg fetch of the rows", partial(pool.fetch, RAW_STREAM, cart_id)),
                ("store.read_stream (rows to RecordedEvent)", partial(store.read_stream, cart_id)),
                ("mapper.from_recorded of every event", decode),
                ("Repository.get, no snapshot", partial(repository.get, cart_id)),
                (
                    "the same with the garbage collector off",
                    partial(without_gc, repository.get, cart_id),
                ),
            ]
            results = [(label, await median_ms(action)) for label, action in actions]
            cart = await repository.get(cart_id, kind=Cart)
            assert cart.items == LOAD_EVENTS - 1, "the replayed cart lost events"
            await store.save_snapshot(mapper.to_snapshot(cart))
            with_snapshot = await median_ms(partial(repository.get, cart_id))
            results.append(("Repository.get, snapshot at the last event", with_snapshot))
            small_id = (await saved_cart(repository, SMALL_EVENTS)).id

            async def two_reads() -> None:  # what Repository.get did before load_stream
                snapshot = await store.load_snapshot(small_id)
                after = snapshot.version + 1 if snapshot else 1
                await store.read_stream(small_id, after)

            actions = [
                (f"{SMALL_EVENTS} events: snapshot, then stream", two_reads),
                (f"{SMALL_EVENTS} events: store.load_stream", partial(store.load_stream, small_id)),
                (f"{SMALL_EVENTS} events: Repository.get", partial(repository.get, small_id)),
            ]
            for label, action in actions:
                results.append((label, await median_ms(action, SMALL_REPEATS)))
            return results
        finally:
            await pool.close()


def print_loads(results: list[tuple[str, float]]) -> None:
    print(f"\n3. Loading one aggregate of {LOAD_EVENTS:,} events (median of {LOAD_REPEATS}),")
    print(f"   then of {SMALL_EVENTS} events (median of {SMALL_REPEATS})")
    for label, ms in results:
        print(f"{label:<44}{ms:>9.3f} ms")


async def main() -> None:
    conn = await asyncpg.connect(DSN)
    version = await conn.fetchval("SHOW server_version")
    await conn.close()
    print(f"Event store benchmark: PostgreSQL {version} at {urlsplit(DSN).hostname},")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    started = time.perf_counter()
    print_appends(*await bench_appends())
    print_reads(await bench_reads())
    print_loads(await bench_loads())
    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.0f} s in all; load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    asyncio.run(main())
