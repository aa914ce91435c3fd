"""Event store benchmark: our PostgreSQL event store next to `eventsourcing`'s and raw asyncpg.

Run with `make bench` (or `.venv/bin/python bench/eventstore.py`) against a local PostgreSQL:
``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``). Every system gets
its own fresh schema, dropped at the end. ``BENCH_SECONDS`` sets the length of each append run.

1. Appends: each append is one new aggregate with 2 events, with 1, 4 and 16 writers.
2. Reads: 200,000 events read in the global order, in batches.
3. Loads: one aggregate with 10,000 events, with and without a snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

from adapters.postgres.connection import create_pool, server_settings
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
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
WARMUP_SECONDS = 0.5
WRITERS = (1, 4, 16)
READ_EVENTS = 200_000
READ_BATCH = 1_000
LOAD_EVENTS = 10_000
LOAD_REPEATS = 5
METADATA = EventMetadata(tenant_id="bench", actor="bench")
COLUMNS = (
    "stream_id, version, event_id, type, data,"
    " tenant_id, correlation_id, causation_id, actor, recorded_at"
)
READ_COLUMNS = f"tx_id, global_position, {COLUMNS}"


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


# The two events of a cart as our mapper stores them; the raw systems append these bytes.
SAMPLE = [EventMapper().to_new_event(e) for e in new_cart().collect_events()]


@dataclass(frozen=True)
class Run:
    """How many aggregates one system appended in how long."""

    system: str
    writers: int
    aggregates: int
    seconds: float

    @property
    def aggregates_per_s(self) -> float:
        return self.aggregates / self.seconds

    @property
    def events_per_s(self) -> float:
        return 2 * self.aggregates_per_s


# -- schemas -------------------------------------------------------------------------------


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


async def count_rows(pool: asyncpg.Pool, table: str) -> int:
    return int(await pool.fetchval(f"SELECT count(*) FROM {table}"))


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


# -- 1. appends ----------------------------------------------------------------------------


async def run_tasks(writers: int, seconds: float, append_one: Callable[[], Awaitable[Any]]) -> int:
    """Appends from ``writers`` concurrent tasks until ``seconds`` pass; returns the count."""
    deadline = time.perf_counter() + seconds

    async def writer() -> int:
        count = 0
        while time.perf_counter() < deadline:
            await append_one()
            count += 1
        return count

    return sum(await asyncio.gather(*(writer() for _ in range(writers))))


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


async def measure_async(
    system: str, writers: int, append_one: Callable[[], Awaitable[Any]]
) -> tuple[Run, int]:
    """One warm-up, then one timed run; also returns every append made, for a row check."""
    warmup = await run_tasks(writers, WARMUP_SECONDS, append_one)
    start = time.perf_counter()
    count = await run_tasks(writers, SECONDS, append_one)
    return Run(system, writers, count, time.perf_counter() - start), warmup + count


async def measure_threads(
    system: str, writers: int, append_one: Callable[[], Any]
) -> tuple[Run, int]:
    warmup = await asyncio.to_thread(run_threads, writers, WARMUP_SECONDS, append_one)
    start = time.perf_counter()
    count = await asyncio.to_thread(run_threads, writers, SECONDS, append_one)
    return Run(system, writers, count, time.perf_counter() - start), warmup + count


def check_rows(system: str, stored: int, appended: int) -> None:
    if stored != 2 * appended:
        raise RuntimeError(f"{system}: {stored} rows stored for {appended} appends")


async def bench_ours_repository(writers: int) -> Run:
    async with fresh_schema() as schema:
        pool = await create_pool(DSN, schema=schema, min_size=writers, max_size=writers)
        try:
            repository = Repository(PostgresEventStore(pool))
            run, total = await measure_async(
                "ours Repository.save",
                writers,
                lambda: repository.save(new_cart(), metadata=METADATA),
            )
            check_rows(run.system, await count_rows(pool, "events"), total)
            return run
        finally:
            await pool.close()


def sample_streams() -> list[AppendStream]:
    """One new stream with the sample events under fresh ids: what a save would append."""
    events = [NewEvent(uuid4(), e.type, e.data) for e in SAMPLE]
    return [AppendStream(uuid4(), 0, events)]


async def bench_ours_append(writers: int) -> Run:
    async with fresh_schema() as schema:
        pool = await create_pool(DSN, schema=schema, min_size=writers, max_size=writers)
        try:
            store = PostgresEventStore(pool)
            run, total = await measure_async(
                "ours PostgresEventStore.append",
                writers,
                lambda: store.append(sample_streams(), METADATA),
            )
            check_rows(run.system, await count_rows(pool, "events"), total)
            return run
        finally:
            await pool.close()


RAW_INSERT = f"""
INSERT INTO events ({COLUMNS}) VALUES
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


async def bench_raw(writers: int) -> Run:
    async with fresh_schema() as schema:
        pool = await create_pool(DSN, schema=schema, min_size=writers, max_size=writers)
        try:
            run, total = await measure_async(
                "raw asyncpg INSERT", writers, lambda: pool.execute(RAW_INSERT, *raw_args())
            )
            check_rows(run.system, await count_rows(pool, "events"), total)
            return run
        finally:
            await pool.close()


async def bench_eventsourcing(writers: int) -> Run:
    async with fresh_schema(migrated=False) as schema:
        app = await asyncio.to_thread(eventsourcing_app, schema, writers)
        try:
            run, total = await measure_threads(
                "eventsourcing Application.save", writers, lambda: app.save(new_cart())
            )
            stored = await asyncio.to_thread(app.recorder.max_notification_id)  # type: ignore[attr-defined]
            check_rows(run.system, stored or 0, total)
            return run
        finally:
            await asyncio.to_thread(app.close)


APPEND_SYSTEMS = {
    "ours": bench_ours_repository,
    "ours-append": bench_ours_append,
    "eventsourcing": bench_eventsourcing,
    "raw": bench_raw,
}


async def bench_appends() -> dict[tuple[str, int], Run]:
    results = {}
    for key, bench in APPEND_SYSTEMS.items():
        for writers in WRITERS:
            results[key, writers] = await bench(writers)
    return results


def print_appends(results: dict[tuple[str, int], Run]) -> None:
    print(f"\n1. Appends: one new aggregate with 2 events per append, {SECONDS:g} s per run")
    print(f"{'system':<34}{'writers':>8}{'aggregates/s':>14}{'events/s':>12}")
    for run in results.values():
        print(
            f"{run.system:<34}{run.writers:>8}"
            f"{run.aggregates_per_s:>14,.0f}{run.events_per_s:>12,.0f}"
        )
    print(f"\n{'writers':>8}{'ours/eventsourcing':>20}{'ours/raw':>10}{'ours-append/raw':>17}")
    for writers in WRITERS:
        ours = results["ours", writers].aggregates_per_s
        append = results["ours-append", writers].aggregates_per_s
        theirs = results["eventsourcing", writers].aggregates_per_s
        raw = results["raw", writers].aggregates_per_s
        print(f"{writers:>8}{ours / theirs:>19.1f}x{ours / raw:>9.2f}x{append / raw:>16.2f}x")
    top = max(WRITERS)
    ours = results["ours", top].aggregates_per_s
    versus_theirs = ours / results["eventsourcing", top].aggregates_per_s
    versus_raw = ours / results["raw", top].aggregates_per_s
    print(
        f"goals at {top} writers: ours >= 8x eventsourcing: {verdict(versus_theirs >= 8)}"
        f" ({versus_theirs:.1f}x); ours >= 0.6x raw: {verdict(versus_raw >= 0.6)}"
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
    columns = ["stream_id", "version", "event_id", "type", "data", "tenant_id", "actor"]
    columns.append("recorded_at")
    async with pool.acquire() as conn:
        for start in range(0, count, 20_000):
            await conn.copy_records_to_table(
                "events",
                records=records[start : start + 20_000],
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
    """The same carts through the recorder, 10,000 events per insert."""
    stored = [app.mapper.to_stored_event(e) for e in new_cart().collect_events()]
    for _ in range(0, count, 10_000):
        batch = [
            StoredEvent(stream_id, s.originator_version, s.topic, s.state)
            for stream_id in (uuid4() for _ in range(5_000))
            for s in stored
        ]
        app.recorder.insert_events(batch)


def read_eventsourcing(app: Application[UUID]) -> int:
    count, start = 0, 1
    recorder = app.recorder
    while batch := recorder.select_notifications(start, READ_BATCH):  # type: ignore[attr-defined]
        count += len(batch)
        start = batch[-1].id + 1
    return count


async def timed(label: str, read: Awaitable[int]) -> tuple[str, int, float]:
    start = time.perf_counter()
    count = await read
    return label, count, time.perf_counter() - start


async def bench_reads() -> list[tuple[str, int, float]]:
    async with fresh_schema() as schema:
        pool = await create_pool(DSN, schema=schema, min_size=1, max_size=2)
        try:
            await fill_events(pool, schema, READ_EVENTS)
            store = PostgresEventStore(pool)
            await read_raw_all(pool)  # warms the cache for every reader alike
            results = [
                await timed("raw asyncpg, one SELECT ... ORDER BY", read_raw_all(pool)),
                await timed(f"raw asyncpg, keyset pages of {READ_BATCH}", read_raw_pages(pool)),
                await timed(f"ours read_all, batches of {READ_BATCH}", read_ours(store)),
            ]
        finally:
            await pool.close()
    async with fresh_schema(migrated=False) as schema:
        app = await asyncio.to_thread(eventsourcing_app, schema, 1)
        try:
            await asyncio.to_thread(fill_eventsourcing, app, READ_EVENTS)
            label = f"eventsourcing select_notifications, {READ_BATCH}"
            results.append(await timed(label, asyncio.to_thread(read_eventsourcing, app)))
        finally:
            await asyncio.to_thread(app.close)
    return results


def print_reads(results: list[tuple[str, int, float]]) -> None:
    print(f"\n2. Reads: {READ_EVENTS:,} events in the global order")
    print(f"{'reader':<46}{'events':>9}{'seconds':>9}{'events/s':>12}")
    for label, count, seconds in results:
        print(f"{label:<46}{count:>9,}{seconds:>9.2f}{count / seconds:>12,.0f}")


# -- 3. aggregate loads --------------------------------------------------------------------


def median_ms(samples: Sequence[float]) -> float:
    return statistics.median(samples) * 1000


async def time_ms(make: Callable[[], Awaitable[Any]]) -> float:
    samples = []
    for _ in range(LOAD_REPEATS):
        start = time.perf_counter()
        await make()
        samples.append(time.perf_counter() - start)
    return median_ms(samples)


async def decode_and_apply(mapper: EventMapper, store: PostgresEventStore, cart_id: UUID) -> None:
    aggregate = None
    for recorded in await store.read_stream(cart_id):
        aggregate = mapper.from_recorded(recorded).mutate(aggregate)  # type: ignore[attr-defined]


async def bench_loads() -> list[tuple[str, float]]:
    async with fresh_schema() as schema:
        pool = await create_pool(DSN, schema=schema, min_size=1, max_size=2)
        try:
            store = PostgresEventStore(pool)
            repository = Repository(store)
            cart = Cart(customer="customer-42")
            for _ in range(LOAD_EVENTS - 1):
                cart.add_item("sku-1", 1)
            await repository.save(cart, metadata=METADATA)
            records = await store.read_stream(cart.id)
            mapper = repository.mapper

            async def decode_only() -> None:
                for recorded in records:
                    mapper.from_recorded(recorded)

            results = [
                (
                    "store.read_stream (no decoding)",
                    await time_ms(lambda: store.read_stream(cart.id)),
                ),
                ("mapper.from_recorded only", await time_ms(decode_only)),
                (
                    "read_stream + decode + apply",
                    await time_ms(lambda: decode_and_apply(mapper, store, cart.id)),
                ),
                ("Repository.get, no snapshot", await time_ms(lambda: repository.get(cart.id))),
            ]
            loaded = await repository.get(cart.id, kind=Cart)
            assert loaded.items == LOAD_EVENTS - 1
            await store.save_snapshot(mapper.to_snapshot(loaded))
            with_snapshot = await time_ms(lambda: repository.get(cart.id))
            results.append(("Repository.get, snapshot at the last version", with_snapshot))
            return results
        finally:
            await pool.close()


def print_loads(results: list[tuple[str, float]]) -> None:
    print(f"\n3. Loading one aggregate of {LOAD_EVENTS:,} events (median of {LOAD_REPEATS})")
    for label, ms in results:
        print(f"{label:<46}{ms:>9.1f} ms")


async def main() -> None:
    print(f"Event store benchmark on {urlsplit(DSN).hostname}, {os.cpu_count()} CPUs")
    started = time.perf_counter()
    print_appends(await bench_appends())
    print_reads(await bench_reads())
    print_loads(await bench_loads())
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    asyncio.run(main())
