"""Webhook benchmark: signed Stripe webhooks over real HTTP to the service, then processed.

Run with ``.venv/bin/python bench/webhooks.py`` against a local PostgreSQL named by
``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); it works in a
fresh schema, dropped at the end. The service runs under granian in a subprocess
(``tests.integration.webhook_app``: the app with its webhook routes and worker).

1. Receiving: ``BENCH_CONNECTIONS`` keep-alive connections (default 32) post unique signed
   events for ``BENCH_SECONDS`` (default 10) to a server without a webhook worker, so only
   verifying and storing is measured: accepted/s and latency percentiles. The goal is at
   least 1,000 accepted/s. Every 200 is checked against the rows stored.
2. End to end: ``BENCH_PAYMENTS`` (default 1,000) payments waiting for 3-D Secure are opened
   over the API (each order of a product of its own); then each one's
   ``payment_intent.succeeded`` is posted to a server whose worker records them. Shown:
   posting rate, and events recorded per second from the first post to the last one
   processed (each records the capture, pays its order and takes its stock); and the CPU
   time the server's processes spent per event meanwhile (receiving, recording, and the
   projections of what was recorded, all in those processes): unlike the rates, it hardly
   moves with the machine's load.

``BENCH_SERVER_WORKERS`` (default 1) sets granian's worker processes; each also runs a
webhook worker in phase 2. The client, the server and PostgreSQL share this machine's CPUs.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/webhooks.py` puts bench/ first on sys.path, where bench/http.py would stand
# in for the standard library's `http`; the repository's root goes there instead, for the
# served app (tests.integration.webhook_app, until app.py wires the webhook routes).
ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import asyncio  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402

from adapters.memory.clock import RandomIds, SystemClock  # noqa: E402
from adapters.postgres.connection import create_pool  # noqa: E402
from adapters.postgres.migrate import migrate  # noqa: E402
from adapters.postgres.tenants import PostgresTenants  # noqa: E402
from entrypoints.tenancy import create_tenant  # noqa: E402

DSN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", "1000"))
SERVER_WORKERS = int(os.environ.get("BENCH_SERVER_WORKERS", "1"))
SECRET = "whsec_bench"
PATH = "/api/v1/webhooks/stripe"
DEADLINE = 600.0


def sign(payload: bytes, timestamp: int) -> str:
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def intent_event(event_type: str, intent: dict[str, Any]) -> bytes:
    """An event as Stripe sends it (about 1.5 kB, like a real PaymentIntent event)."""
    return msgspec.json.encode(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": f"req_{uuid.uuid4().hex[:14]}", "idempotency_key": None},
            "type": event_type,
            "data": {
                "object": {
                    "object": "payment_intent",
                    "amount_capturable": 0,
                    "amount_details": {"tip": {}},
                    "capture_method": "automatic",
                    "client_secret": f"{intent['id']}_secret_{uuid.uuid4().hex[:24]}",
                    "confirmation_method": "automatic",
                    "created": int(time.time()),
                    "latest_charge": f"ch_{uuid.uuid4().hex[:24]}",
                    "livemode": False,
                    "payment_method": f"pm_{uuid.uuid4().hex[:24]}",
                    "payment_method_options": {
                        "card": {"request_three_d_secure": "automatic", "network": None}
                    },
                    "payment_method_types": ["card"],
                    "status": "succeeded",
                    **intent,
                }
            },
        }
    )


class Client:
    """One keep-alive HTTP/1.1 connection that posts signed events."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Client:
        return cls(*await asyncio.open_connection(host, port))

    async def post(self, payload: bytes) -> int:
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Stripe-Signature: {sign(payload, int(time.time()))}\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def post_all(url: str, payloads: list[bytes]) -> tuple[Counter[int], list[float], float]:
    """Posts ``payloads`` over ``CONNECTIONS`` connections: statuses, latencies, seconds."""
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    queue = iter(payloads)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def connection() -> None:
        client = await Client.open(host, port)
        try:
            for payload in queue:
                started = time.perf_counter()
                statuses[await client.post(payload)] += 1
                latencies.append(time.perf_counter() - started)
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return statuses, latencies, time.perf_counter() - started


async def post_for(url: str, seconds: float) -> tuple[Counter[int], list[float], float]:
    """Posts new events for ``seconds``: statuses, latencies, elapsed."""
    host, port = urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        client = await Client.open(host, port)
        try:
            while time.perf_counter() < deadline:
                intent = {"id": f"pi_{uuid.uuid4().hex[:24]}", "amount": 2500, "currency": "usd"}
                intent["metadata"] = {"order_number": "ORD-000001"}
                payload = intent_event("payment_intent.created", intent)
                started = time.perf_counter()
                statuses[await client.post(payload)] += 1
                latencies.append(time.perf_counter() - started)
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return statuses, latencies, time.perf_counter() - started


def percentiles(latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100)
    return f"p50 {cuts[49] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms"


async def receiving(server_url: str, pool: asyncpg.Pool, server_pid: int) -> None:
    print(f"1. receiving: {CONNECTIONS} connections for {SECONDS:.0f} s, no worker")
    await post_for(server_url, 1.0)  # warm-up
    before = await pool.fetchval("SELECT count(*) FROM webhook_events")
    cpu = tree_cpu(server_pid)
    statuses, latencies, elapsed = await post_for(server_url, SECONDS)
    cpu = tree_cpu(server_pid) - cpu
    stored = await pool.fetchval("SELECT count(*) FROM webhook_events") - before
    accepted = statuses[200]
    print(
        f"   accepted {accepted / elapsed:,.0f}/s ({accepted:,} in {elapsed:.1f} s), "
        f"{percentiles(latencies)}; statuses {dict(statuses)}; "
        f"server CPU {cpu / max(accepted, 1) * 1000:.2f} ms per event"
    )
    assert stored == accepted, f"{accepted} accepted but {stored} stored"


async def open_payments(server_url: str, key: str) -> list[dict[str, Any]]:
    """``PAYMENTS`` orders of a product of their own (so that no two share a stock item),
    each with a card payment waiting for 3-D Secure."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=server_url, headers=headers, timeout=30.0) as api:
        opened: list[dict[str, Any]] = []
        numbers = iter(range(PAYMENTS))

        async def opener() -> None:
            for n in numbers:
                sku = f"MUG-{n}"
                product = {"name": "Mug", "price": {"amount": 1250, "currency": "USD"}}
                (await api.put(f"/api/v1/products/{sku}", json=product)).raise_for_status()
                receipt = await api.post(f"/api/v1/inventory/{sku}/receipts", json={"quantity": 2})
                receipt.raise_for_status()
                order = {
                    "customer": {"email": f"customer-{n}@example.com"},
                    "lines": [{"sku": sku, "quantity": 2}],
                    "currency": "USD",
                }
                placed = await api.post("/api/v1/orders", json=order)
                placed.raise_for_status()
                pay = {
                    "order_id": placed.json()["id"],
                    "payment_method": {"type": "card", "token": "tok_3ds"},
                    "gateway": "stripe",
                }
                charged = await api.post("/api/v1/payments/charge", json=pay)
                charged.raise_for_status()
                opened.append({**charged.json(), "sku": sku})

        await asyncio.gather(*(opener() for _ in range(8)))
        return opened


def tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) used so far by process ``pid`` and its descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, grown = {pid}, True
    while grown:
        grown = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grown = True
    return sum(times.get(member, 0.0) for member in tree)


async def end_to_end(
    server_url: str, pool: asyncpg.Pool, tenant_id: str, key: str, server_pid: int
) -> None:
    print(f"2. end to end: {PAYMENTS:,} payments completed by their webhooks")
    opening = time.perf_counter()
    opened = await open_payments(server_url, key)
    print(
        f"   ({len(opened):,} payments opened over the API in "
        f"{time.perf_counter() - opening:.1f} s)"
    )
    payloads = [
        intent_event(
            "payment_intent.succeeded",
            {
                "id": p["gateway_payment_id"],
                "amount": p["amount"],
                "amount_received": p["amount"],
                "currency": p["currency"].lower(),
                "metadata": {
                    "tenant_id": tenant_id,
                    "order_id": p["order_id"],
                    "payment_id": p["id"],
                },
            },
        )
        for p in opened
    ]
    started, cpu = time.perf_counter(), tree_cpu(server_pid)
    statuses, latencies, posting = await post_all(server_url, payloads)
    while True:
        row = await pool.fetchrow(
            "SELECT count(*) FILTER (WHERE status = 'processed') AS done,"
            " count(*) FILTER (WHERE status IN ('received', 'failed')) AS waiting,"
            " count(*) FILTER (WHERE status = 'dead') AS dead FROM webhook_events"
            " WHERE type = 'payment_intent.succeeded'"
        )
        assert row is not None
        if row["waiting"] == 0:
            break
        assert time.perf_counter() - started < DEADLINE, f"still waiting: {dict(row)}"
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    cpu = tree_cpu(server_pid) - cpu
    print(
        f"   posted {statuses[200] / posting:,.0f}/s ({statuses[200]:,} in {posting:.1f} s), "
        f"{percentiles(latencies)}; statuses {dict(statuses)}"
    )
    print(
        f"   recorded {row['done'] / elapsed:,.0f}/s end to end ({row['done']:,} in "
        f"{elapsed:.1f} s from the first post; the last {elapsed - posting:.1f} s after "
        f"the last post); dead {row['dead']}"
    )
    print(
        f"   server CPU {cpu / max(row['done'], 1) * 1000:.2f} ms per event recorded "
        f"(receiving, recording, projections; {cpu:.1f} s in all)"
    )
    attempts = await pool.fetch(
        "SELECT attempts, count(*) AS n FROM webhook_events"
        " WHERE type = 'payment_intent.succeeded' GROUP BY attempts ORDER BY attempts"
    )
    print(f"   attempts per event: { ({r['attempts']: r['n'] for r in attempts}) }")
    await check_paid(server_url, key, opened)


async def check_paid(server_url: str, key: str, opened: list[dict[str, Any]]) -> None:
    """Every payment captured, and each order paid (checked on a sample of orders)."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=server_url, headers=headers, timeout=30.0) as api:
        for payment in opened[:: max(len(opened) // 100, 1)]:
            seen = (await api.get(f"/api/v1/payments/{payment['id']}")).json()
            assert seen["status"] == "captured", seen
            order = (await api.get(f"/api/v1/orders/{payment['order_id']}")).json()
            assert order["status"] == "paid", order["status"]
            stock = (await api.get(f"/api/v1/inventory/{payment['sku']}")).json()
            assert stock["on_hand"] == 0, stock  # the order's two units are taken
    print("   checked: payments captured, orders paid, all stock taken")


async def main() -> None:
    from tests.integration.webhook_app import Server

    schema = f"bench_webhooks_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(DSN)
    await admin.execute(f"CREATE SCHEMA {schema}")
    pool = await create_pool(DSN, schema=schema, min_size=1, max_size=4)
    data_dir = tempfile.mkdtemp(prefix="bench-webhooks-")
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        tenant, issued = await create_tenant(
            PostgresTenants(pool), "bench", clock=SystemClock(), ids=RandomIds()
        )
        env = {
            "DATABASE_URL": DSN,
            "DATABASE_SCHEMA": schema,
            "EVENT_STORE": "postgres",
            "PAYMENT_GATEWAY": "fake",
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "DATA_DIR": data_dir,
            # the setup's API calls all use one key: far above the per-key limit (ADR 0022)
            "RATE_LIMIT_PER_SECOND": "1000000",
            "RATE_LIMIT_BURST": "1000000",
        }
        print(f"granian workers: {SERVER_WORKERS}; CPUs here: {os.cpu_count()}")
        log = Path(data_dir) / "server.log"
        server = Server({**env, "WEBHOOK_WORKER": "0"}, log, workers=SERVER_WORKERS)
        try:
            await receiving(server.url, pool, server._process.pid)
        finally:
            server.stop()
        server = Server(env, log, workers=SERVER_WORKERS)
        try:
            pid = server._process.pid
            await end_to_end(server.url, pool, str(tenant.id), issued.secret, pid)
        finally:
            server.stop()
    finally:
        await pool.close()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
