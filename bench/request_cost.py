"""What one request costs: database round trips, events stored, CPU of the app process.

Run with `.venv/bin/python bench/request_cost.py`. The app runs in this process on a
fresh schema of ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
with the test gateway in memory, for three routes: place an order of 3 lines (fresh SKUs
each time, as over a large catalog), charge it, and read it back (``GET /orders/{id}``);
with ``POST /bench/hello`` (bench/http.py's reference) for CPU. Round trips also for a
whole customer profile (name, phone, two addresses, two tags) registered, changed and read
(``POST``, ``PATCH`` and ``GET /customers``) and for an order with a shipping and a billing
address placed and read: their personal data is sealed under the customer's data key.

1. Round trips: every asyncpg call that reaches the server (queries, statement
   preparation, ``BEGIN``/``COMMIT``) is counted by SQL text, over
   ``BENCH_COST_SAMPLES`` (20) requests sent one at a time after a warm-up; printed as
   the median with the statements of a typical request.
2. CPU: ``BENCH_COST_ORDERS`` (300) orders are placed 8 at a time and the projections
   (running in this process) catch up, then the orders are charged 8 at a time and the
   projections catch up again; the process CPU time of each phase divided by the orders
   is what a place-order and a charge cost the app, their projections included (the
   database's own CPU is not). Then each order is read back and hello is called as many
   times, 8 at a time: the CPU of a get-order next to the framework's floor (the
   in-process client's own CPU is in every figure alike).

These figures hardly move with other load on the machine (round trips not at all; CPU
time far less than req/s), so code before and after a change compare here even on a
busy machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would stand in for the standard library's `http` package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import asyncio
import contextlib
import dataclasses
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from adapters.postgres.connection import server_settings
from adapters.postgres.migrate import migrate
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.tenancy import create_tenant

DSN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SAMPLES = int(os.environ.get("BENCH_COST_SAMPLES", "20"))
ORDERS = int(os.environ.get("BENCH_COST_ORDERS", "300"))
WARM_UP = 3
CONCURRENCY = 8
CARD = {"type": "card", "token": "tok_visa"}
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James Sq",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}
PROFILE = {
    "name": "Ada Lovelace",
    "phone": "+44 20 7946 0958",
    "addresses": [ADDRESS, {**ADDRESS, "line1": "1 Analytical Way"}],
    "tags": ["vip", "wholesale"],
}

_COUNTED = ("execute", "executemany", "fetch", "fetchrow", "fetchval", "_get_statement")


class Trips:
    """Counts asyncpg calls by statement while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.calls: Counter[str] = Counter()

    def install(self) -> None:
        for name in _COUNTED:
            original = getattr(asyncpg.connection.Connection, name)
            setattr(asyncpg.connection.Connection, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Callable[..., Awaitable[Any]]) -> Any:
        trips = self

        async def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
            if trips.on and name == "_get_statement":
                record_class = kwargs.get("record_class") or conn._protocol.get_record_class()
                key = (args[0], record_class, kwargs.get("ignore_custom_codec", False))
                if conn._stmt_cache.get(key) is None:  # a prepare round trip
                    trips.calls[f"prepare {_short(args[0])}"] += 1
            elif trips.on:
                query = args[0] if args and isinstance(args[0], str) else ""
                trips.calls[f"{name} {_short(query)}"] += 1
            return await original(conn, *args, **kwargs)

        return counted


def _short(sql: str) -> str:
    return " ".join(sql.split())[:90]


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """Drives the ASGI lifespan protocol, as a server does."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> Any:
        return await inbox.get()

    async def send(message: Any) -> None:
        await outbox.put(message)

    scope: Any = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, receive, send))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await outbox.get()
        await task


@contextlib.asynccontextmanager
async def shop(projections: bool) -> AsyncIterator[Shop]:
    """A fresh migrated schema, the app on it, a tenant, and a client with its key."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(DSN)
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        conn = await asyncpg.connect(DSN, server_settings=server_settings(schema))
        try:
            await migrate(conn)
        finally:
            await conn.close()
        settings = dataclasses.replace(
            Settings.from_env(),
            database_url=DSN,
            database_schema=schema,
            event_store="postgres",
            payment_gateway="fake",
            fake_gateway_store="memory",
            background_work=frozenset({"projections"} if projections else ()),
            rate_limit_per_second=1_000_000,  # counted, never refused: the limiter's cost only
            rate_limit_burst=1_000_000,
            bench_routes=True,
        )
        app = create_app(settings)
        async with running(app):
            c = app.state.container
            _, issued = await create_tenant(c.tenants(), "cost", clock=c.clock(), ids=c.ids())
            headers = {"Authorization": f"Bearer {issued.secret}"}
            asgi: Any = app
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers, timeout=60
            ) as http:
                yield Shop(http, admin, schema)
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


@dataclasses.dataclass
class Shop:
    http: httpx.AsyncClient
    admin: asyncpg.Connection
    schema: str
    customer_id: str = ""

    async def stock(self, orders: int) -> None:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def product(i: int) -> None:
            async with limit:
                product = {"name": "x", "price": {"amount": 1000 + i % 100, "currency": "USD"}}
                put = await self.http.put(f"/api/v1/products/{_sku(i)}", json=product)
                receipts = f"/api/v1/inventory/{_sku(i)}/receipts"
                received = await self.http.post(receipts, json={"quantity": 10})
                assert (put.status_code, received.status_code) == (200, 201), received.text

        await asyncio.gather(*(product(i) for i in range(3 * orders)))
        customer = await self.http.post("/api/v1/customers", json={"email": "c@example.com"})
        self.customer_id = customer.json()["id"]

    async def register(self, n: int) -> str:
        body = {**PROFILE, "email": f"profile-{n}@example.com"}
        registered = await self.http.post("/api/v1/customers", json=body)
        assert registered.status_code == 201, registered.text
        return str(registered.json()["id"])

    async def change(self, customer_id: str) -> None:
        body = {"name": "Ada Byron", "addresses": [ADDRESS], "tags": ["vip", "b2b"]}
        changed = await self.http.patch(f"/api/v1/customers/{customer_id}", json=body)
        assert changed.status_code == 200, changed.text

    async def customer(self, customer_id: str) -> None:
        answer = await self.http.get(f"/api/v1/customers/{customer_id}")
        assert answer.status_code == 200, answer.text

    async def place(self, n: int, addressed: bool = False) -> str:
        lines = [{"sku": _sku(3 * n + i), "quantity": 1} for i in range(3)]
        body: dict[str, Any] = {
            "customer": {"id": self.customer_id},
            "currency": "USD",
            "lines": lines,
        }
        if addressed:
            body |= {"shipping_address": ADDRESS, "billing_address": ADDRESS}
        placed = await self.http.post("/api/v1/orders", json=body)
        assert placed.status_code == 201, placed.text
        return str(placed.json()["id"])

    async def charge(self, order_id: str) -> None:
        body = {"order_id": order_id, "payment_method": CARD}
        charged = await self.http.post("/api/v1/payments/charge", json=body)
        assert charged.status_code == 201, charged.text

    async def read(self, order_id: str) -> None:
        answer = await self.http.get(f"/api/v1/orders/{order_id}")
        assert answer.status_code == 200, answer.text

    async def hello(self) -> None:
        answer = await self.http.post("/bench/hello", json={"name": "bench"})
        assert answer.status_code == 200, answer.text

    async def caught_up(self) -> None:
        """Waits until every projection is live at the head of the store."""
        while True:
            answer = await self.http.get("/api/v1/admin/projections")
            assert answer.status_code == 200, answer.text
            rows = answer.json()
            if all(row["lag"] == 0 and row["status"] == "live" for row in rows):
                return
            await asyncio.sleep(0.02)


def _sku(i: int) -> str:
    return f"COST-{i:05d}"


async def round_trips() -> tuple[dict[str, list[Counter[str]]], list[asyncpg.Record]]:
    """The asyncpg calls of each request (place-order, charge), and the events stored."""
    trips = Trips()
    trips.install()
    seen: dict[str, list[Counter[str]]] = {
        route: []
        for route in (
            "place-order",
            "charge",
            "get-order",
            "register-customer",
            "change-customer",
            "get-customer",
            "place-addressed-order",
            "get-addressed-order",
        )
    }

    async def counted(route: str, request: Awaitable[Any], keep: bool) -> Any:
        trips.calls, trips.on = Counter(), True
        try:
            return await request
        finally:
            trips.on = False
            if keep:
                seen[route].append(trips.calls)

    async with shop(projections=False) as s:
        await s.stock(2 * (SAMPLES + WARM_UP))
        for n in range(SAMPLES + WARM_UP):
            order_id = await counted("place-order", s.place(n), n >= WARM_UP)
            await counted("charge", s.charge(order_id), n >= WARM_UP)
            await counted("get-order", s.read(order_id), n >= WARM_UP)
        for n in range(SAMPLES + WARM_UP):
            customer_id = await counted("register-customer", s.register(n), n >= WARM_UP)
            await counted("change-customer", s.change(customer_id), n >= WARM_UP)
            await counted("get-customer", s.customer(customer_id), n >= WARM_UP)
        for n in range(SAMPLES + WARM_UP):
            placing = s.place(SAMPLES + WARM_UP + n, addressed=True)
            order_id = await counted("place-addressed-order", placing, n >= WARM_UP)
            await counted("get-addressed-order", s.read(order_id), n >= WARM_UP)
        rows = await s.admin.fetch(
            f"SELECT type, count(*) AS n FROM {s.schema}.events"
            " WHERE type LIKE '%Order.%' OR type LIKE '%Payment%' OR type LIKE '%Ledger%'"
            " GROUP BY type ORDER BY n DESC, type"
        )
    return seen, rows


def print_round_trips(seen: dict[str, list[Counter[str]]]) -> None:
    """Per route: the median round trips, and the statements of a typical request."""
    for route, samples in seen.items():
        totals = [sum(s.values()) for s in samples]
        median = statistics.median(totals)
        print(f"{route}: {median:g} round trips (median of {len(totals)})")
        typical = min(samples, key=lambda s: abs(sum(s.values()) - median))
        for statement, count in typical.most_common():
            print(f"  {count:3d}  {statement}")


@dataclasses.dataclass(frozen=True)
class Cpu:
    """CPU seconds of the app's process per request."""

    place: float
    charge: float
    get_order: float
    hello: float


async def cpu_per_request() -> Cpu:
    """CPU seconds of this process per place-order and per charge, projections included;
    per get-order and per hello once the projections are live."""
    async with shop(projections=True) as s:
        await s.stock(ORDERS)
        await s.caught_up()
        limit = asyncio.Semaphore(CONCURRENCY)

        async def bounded(request: Awaitable[Any]) -> Any:
            async with limit:
                return await request

        started = time.process_time()
        order_ids = await asyncio.gather(*(bounded(s.place(n)) for n in range(ORDERS)))
        await s.caught_up()
        placed = time.process_time()
        await asyncio.gather(*(bounded(s.charge(order_id)) for order_id in order_ids))
        await s.caught_up()
        charged = time.process_time()
        reads = order_ids * 3
        await asyncio.gather(*(bounded(s.read(order_id)) for order_id in reads))
        read = time.process_time()
        await asyncio.gather(*(bounded(s.hello()) for _ in reads))
        hello = time.process_time()
        return Cpu(
            (placed - started) / ORDERS,
            (charged - placed) / ORDERS,
            (read - charged) / len(reads),
            (hello - read) / len(reads),
        )


def main() -> None:
    seen, rows = asyncio.run(round_trips())
    orders = SAMPLES + WARM_UP
    print(f"events of orders, ledgers and payments, per order placed and charged ({orders}):")
    for row in rows:
        print(f"  {row['n'] / orders:5.2f}  {row['type'].rsplit(':', 1)[-1]}")
    print_round_trips(seen)
    cpu = asyncio.run(cpu_per_request())
    print(f"place-order: {cpu.place * 1000:.2f} ms CPU of the app process per order placed,")
    print(f"charge: {cpu.charge * 1000:.2f} ms CPU of the app process per charge,")
    print(f"  projections included ({ORDERS} orders placed, then charged, {CONCURRENCY} at a time)")
    print(f"get-order: {cpu.get_order * 1000:.2f} ms CPU per order read,", end=" ")
    print(f"hello: {cpu.hello * 1000:.2f} ms ({3 * ORDERS} each, {CONCURRENCY} at a time)")


if __name__ == "__main__":
    main()
