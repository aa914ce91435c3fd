"""Integration event relay benchmark: events relayed per second to NATS JetStream, next to
the raw event store read rate and the relay without a broker, in the same run.

Run with `.venv/bin/python bench/relay.py` (part of `make bench`) against the PostgreSQL named
by ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``) and the NATS
server named by ``BENCH_NATS_URL`` (default ``nats://127.0.0.1:4222``). It works in a fresh
schema and a fresh stream, both removed at the end.

1. Events: ``BENCH_RELAY_ORDERS`` (default 5,000) orders placed and paid through the real
   ``Repository`` (with their payments: placed, payment created, captured, order paid), so
   every order gives four integration events next to its stored events.
2. Reads: ``PostgresEventStore.read_all`` of every event, in pages of 500 (the relay's batch).
3. Relay to memory: the real ``Relay`` with a publisher that keeps the events (reading,
   decoding and deriving, no broker).
4. Relay to JetStream: the real ``Relay`` and ``JetStreamPublisher`` (each event awaited
   for its ack, partitions side by side), checked against the stream's message count.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import nats

from adapters.memory.relay import MemoryPublisher, MemoryRelayCheckpoint
from adapters.nats import JetStreamPublisher
from adapters.postgres.connection import create_pool, server_settings
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.migrate import migrate
from commerce_core.eventstore import START, Repository
from commerce_core.eventstore.records import EventMetadata
from commerce_core.integration.ports import IntegrationPublisher
from commerce_core.integration.relay import Relay
from commerce_core.ordering.order import LineSpec, Order, price_order
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.shared.money import Money
from commerce_core.shared.values import OrderNumber, Sku

DSN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")
ORDERS = int(os.environ.get("BENCH_RELAY_ORDERS", "5000"))
WRITERS = 16
BATCH = 500
AT = datetime(2026, 1, 1, tzinfo=UTC)
FEES = FeeSchedule(basis_points=0)
TENANTS = ("bench-a", "bench-b", "bench-c", "bench-d")


async def place_and_pay(repo: Repository, n: int) -> None:
    tenant = TENANTS[n % len(TENANTS)]
    order_id, payment_id = uuid.uuid4(), uuid.uuid4()
    priced = price_order(
        [LineSpec(sku=Sku("MUG-1"), name="Mug", quantity=1, unit_price=Money(1500, "USD"))],
        "USD",
    )
    order = Order.place(
        id=order_id,
        tenant_id=tenant,
        number=OrderNumber(f"ORD-{n:06d}"),
        customer_id=uuid.uuid4(),
        priced=priced,
        at=AT,
    )
    payment = Payment.create(payment_id, tenant, order_id, Money(1500, "USD"), FEES, AT)
    payment.charge(f"pi_{n}", AT)
    order.mark_paid(Money(1500, "USD"), payment_id, AT)
    await repo.save(order, payment, metadata=EventMetadata(tenant_id=tenant, actor="bench"))


async def fill(store: PostgresEventStore) -> int:
    repo = Repository(store)
    queue = iter(range(ORDERS))

    async def writer() -> None:
        for n in queue:
            await place_and_pay(repo, n)

    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    # readers see events once no older transaction is open on the server (ADR 0002)
    total = await store._pool.fetchval("SELECT count(*) FROM events")
    while (seen := await _count(store)) < total:  # noqa: ASYNC110 - nothing signals it
        await asyncio.sleep(0.1)
    return seen


async def read_everything(store: PostgresEventStore) -> list[object]:
    seen: list[object] = []
    after = START
    while page := await store.read_all(after, limit=BATCH):
        seen.extend(page)
        after = page[-1].position
    return seen


async def timed(label: str, count: Callable[[], Awaitable[int]]) -> tuple[str, int, float]:
    started = time.perf_counter()
    n = await count()
    return label, n, time.perf_counter() - started


async def relay_all(store: PostgresEventStore, publisher: IntegrationPublisher) -> int:
    relay = Relay(store, publisher, MemoryRelayCheckpoint(), batch_size=BATCH)
    while await relay.relay_batch():
        pass
    return relay.relayed


async def main() -> None:
    schema = f"bench_relay_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(DSN)
    await admin.execute(f"CREATE SCHEMA {schema}")
    stream = f"BENCH_{uuid.uuid4().hex[:8].upper()}"
    prefix = f"bench{uuid.uuid4().hex[:6]}"
    try:
        conn = await asyncpg.connect(DSN, server_settings=server_settings(schema))
        await migrate(conn)
        await conn.close()
        pool = await create_pool(DSN, schema=schema, min_size=1, max_size=WRITERS + 2)
        store = PostgresEventStore(pool)
        stored = await fill(store)
        print(f"{ORDERS} orders placed and paid: {stored} stored events")
        publisher = JetStreamPublisher(NATS_URL, stream, prefix)
        rows = [
            await timed("event store read_all (reference)", lambda: _count(store)),
            await timed("relay to memory (no broker)", lambda: relay_all(store, MemoryPublisher())),
            await timed("relay to NATS JetStream", lambda: relay_all(store, publisher)),
        ]
        await publisher.close()
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        in_stream = (await js.stream_info(stream)).state.messages
        await js.delete_stream(stream)
        await nc.close()
        await pool.close()
        print(f"{'what':36} {'events':>8} {'seconds':>8} {'events/s':>10}")
        for label, n, seconds in rows:
            print(f"{label:36} {n:8d} {seconds:8.2f} {n / seconds:10.0f}")
        print(f"messages in the stream: {in_stream} (expected {rows[2][1]})")
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


async def _count(store: PostgresEventStore) -> int:
    return len(await read_everything(store))


if __name__ == "__main__":
    asyncio.run(main())
