"""Shipping quote latency: `POST /shipping/quotes` for a 3-line basket with the fake carrier.

Run with `.venv/bin/python bench/quotes.py`. The app runs in this process on a fresh
schema of ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
no background work. A tenant has three weighed products and two zones (the country's,
and a region's that wins for the address), whose methods are one zone-priced and one
carrier-priced (the fake carrier, so no network). ``BENCH_QUOTE_SAMPLES`` (300)
requests are sent one at a time after a warm-up, and the same number of
``GET /products/{sku}`` in the same run as the reference (auth, one aggregate read, JSON
out). Printed: p50 and p99 of each, and the ratio. One at a time, so the figures are
latency, not throughput; on a busy machine compare the ratio, not the milliseconds.
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
SAMPLES = int(os.environ.get("BENCH_QUOTE_SAMPLES", "300"))
WARM_UP = 20
ADDRESS = {
    "name": "Grace Hopper",
    "line1": "1 Market St",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}
ZONES = {
    "us": {
        "name": "United States",
        "countries": ["US"],
        "methods": [
            {"code": "standard", "name": "Standard", "price": {"amount": 700, "currency": "USD"}}
        ],
    },
    "california": {
        "name": "California",
        "countries": ["US"],
        "regions": ["CA"],
        "ship_from": {**ADDRESS, "name": "Warehouse", "postal_code": "94607"},
        "methods": [
            {
                "code": "standard",
                "name": "Standard",
                "price": {"amount": 400, "currency": "USD"},
                "free_over": {"amount": 5000, "currency": "USD"},
            },
            {
                "code": "ground",
                "name": "Ground",
                "carrier": "fake",
                "service": "standard",
                "handling_fee": {"amount": 150, "currency": "USD"},
            },
        ],
    },
}
BASKET = {
    "lines": [{"sku": f"SKU-{n}", "quantity": n + 1} for n in range(3)],
    "currency": "USD",
    "shipping_address": ADDRESS,
}


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
async def client() -> AsyncIterator[httpx.AsyncClient]:
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
            background_work=frozenset(),
            log_level="warning",  # a log line per request would be most of what is measured
            rate_limit_per_second=1_000_000,
            rate_limit_burst=1_000_000,
        )
        app = create_app(settings)
        async with running(app):
            c = app.state.container
            _, issued = await create_tenant(c.tenants(), "quotes", clock=c.clock(), ids=c.ids())
            headers = {"Authorization": f"Bearer {issued.secret}"}
            asgi: Any = app
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench/api/v1", headers=headers, timeout=60
            ) as http:
                yield http
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


async def set_up(http: httpx.AsyncClient) -> None:
    for n in range(3):
        product = {
            "name": f"Product {n}",
            "price": {"amount": 1000 + n * 250, "currency": "USD"},
            "weight_grams": 300 + n * 200,
        }
        (await http.put(f"/products/SKU-{n}", json=product)).raise_for_status()
    for code, zone in ZONES.items():
        (await http.put(f"/admin/shipping/zones/{code}", json=zone)).raise_for_status()


async def latencies(call: Callable[[], Awaitable[httpx.Response]]) -> list[float]:
    for _ in range(WARM_UP):
        (await call()).raise_for_status()
    times = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        answer = await call()
        times.append((time.perf_counter() - start) * 1000)
        answer.raise_for_status()
    return times


def percentiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100)
    return statistics.median(times), cuts[98]


async def main() -> None:
    async with client() as http:
        await set_up(http)
        quotes = await http.post("/shipping/quotes", json=BASKET)
        quotes.raise_for_status()
        offered = [(q["method"], q["price"]["amount"]) for q in quotes.json()["quotes"]]
        reference = await latencies(lambda: http.get("/products/SKU-0"))
        quoting = await latencies(lambda: http.post("/shipping/quotes", json=BASKET))
    ref50, ref99 = percentiles(reference)
    q50, q99 = percentiles(quoting)
    print(f"shipping quotes, 3-line basket, fake carrier, {SAMPLES} requests one at a time")
    print(f"  offered: {offered}")
    print(f"  GET /products/{{sku}} (reference)  p50 {ref50:6.2f} ms  p99 {ref99:6.2f} ms")
    print(f"  POST /shipping/quotes             p50 {q50:6.2f} ms  p99 {q99:6.2f} ms")
    print(f"  quote / reference at p50: {q50 / ref50:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
