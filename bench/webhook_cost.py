"""What processing one webhook costs the worker: database round trips and CPU.

Run with ``.venv/bin/python bench/webhook_cost.py``. The app runs in this process on a
fresh schema of ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
with the test gateway and no background work. ``BENCH_COST_PAYMENTS`` (500) payments
waiting for 3-D Secure are opened over the API (each order of a SKU of its own, as in
``bench/webhooks.py``), each one's signed ``payment_intent.succeeded`` is stored in the
inbox as the endpoint stores it, then one webhook worker (``WebhookWorker.run_once`` until
nothing is due) records them all. Printed: the asyncpg calls that reached the server per
event (queries and statement preparations, by statement), this process's CPU time per
event, and the wall-clock rate (which, unlike the first two, moves with the machine's load).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/webhook_cost.py` puts bench/ first on sys.path, where bench/http.py would
# stand in for the standard library's `http`; the repository root makes `bench.*` importable.
_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path.pop(0)
sys.path.insert(0, str(_HERE.parent))

import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402
from bench.request_cost import Trips, running  # noqa: E402
from bench.webhooks import SECRET, intent_event, sign  # noqa: E402

from adapters.postgres.connection import server_settings  # noqa: E402
from adapters.postgres.migrate import migrate  # noqa: E402
from commerce_core.payments.webhooks.processing import ordering_key  # noqa: E402
from entrypoints.http.app import create_app  # noqa: E402
from entrypoints.settings import Settings  # noqa: E402
from entrypoints.tenancy import create_tenant  # noqa: E402
from entrypoints.webhook_worker import WebhookWorker  # noqa: E402
from entrypoints.webhooks import Webhooks  # noqa: E402

DSN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PAYMENTS = int(os.environ.get("BENCH_COST_PAYMENTS", "500"))
CONCURRENCY = 8


async def open_payments(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    numbers = iter(range(PAYMENTS))
    opened: list[dict[str, Any]] = []

    async def opener() -> None:
        for n in numbers:
            sku = f"MUG-{n}"
            product = {"name": "Mug", "price": {"amount": 1250, "currency": "USD"}}
            (await http.put(f"/api/v1/products/{sku}", json=product)).raise_for_status()
            receipt = await http.post(f"/api/v1/inventory/{sku}/receipts", json={"quantity": 2})
            receipt.raise_for_status()
            order = {
                "customer": {"email": f"customer-{n}@example.com"},
                "lines": [{"sku": sku, "quantity": 2}],
                "currency": "USD",
            }
            placed = await http.post("/api/v1/orders", json=order)
            placed.raise_for_status()
            pay = {
                "order_id": placed.json()["id"],
                "payment_method": {"type": "card", "token": "tok_3ds"},
                "gateway": "stripe",
            }
            charged = await http.post("/api/v1/payments/charge", json=pay)
            charged.raise_for_status()
            opened.append(charged.json())

    await asyncio.gather(*(opener() for _ in range(CONCURRENCY)))
    return opened


async def store_events(webhooks: Webhooks, tenant_id: str, opened: list[dict[str, Any]]) -> None:
    """Each payment's ``payment_intent.succeeded``, verified and stored as the endpoint does."""
    verifier = webhooks.verifiers["stripe"]
    for p in opened:
        payload = intent_event(
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
        event = verifier.verify(payload, sign(payload, int(time.time())), None)
        key = ordering_key(webhooks.processing.translators, event)
        event = msgspec.structs.replace(event, ordering_key=key)
        assert await webhooks.inbox.add(event, id=webhooks.ids.new_id(), at=webhooks.clock.now())


async def measure() -> None:
    schema = f"bench_whcost_{uuid.uuid4().hex[:8]}"
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
            stripe_webhook_secret=SECRET,
            background_work=frozenset(),
            rate_limit_per_second=1_000_000,
            rate_limit_burst=1_000_000,
        )
        app = create_app(settings)
        async with running(app):
            c = app.state.container
            tenant, issued = await create_tenant(c.tenants(), "cost", clock=c.clock(), ids=c.ids())
            headers = {"Authorization": f"Bearer {issued.secret}"}
            asgi: Any = app
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers, timeout=60
            ) as http:
                opened = await open_payments(http)
            webhooks: Webhooks = app.state.webhooks
            await store_events(webhooks, str(tenant.id), opened)
            worker = WebhookWorker(webhooks)
            trips = Trips()
            trips.install()
            trips.on = True
            cpu, wall = time.process_time(), time.perf_counter()
            while await worker.run_once():
                pass
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            trips.on = False
        rows = await admin.fetch(
            f"SELECT status, attempts, count(*) AS n FROM {schema}.webhook_events"
            " GROUP BY status, attempts ORDER BY status, attempts"
        )
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
    report(trips.calls, cpu, wall, rows)


def report(calls: Counter[str], cpu: float, wall: float, rows: list[asyncpg.Record]) -> None:
    n = PAYMENTS
    print(f"{n} payment_intent.succeeded events, one worker, {os.cpu_count()} CPUs here")
    print(f"outcomes: {[(r['status'], r['attempts'], r['n']) for r in rows]}")
    print(f"round trips per event: {sum(calls.values()) / n:.2f}")
    for statement, count in calls.most_common():
        print(f"  {count / n:6.3f}  {statement}")
    print(f"CPU of this process per event: {cpu / n * 1000:.2f} ms")
    print(f"wall: {n / wall:,.0f} events/s ({wall:.2f} s; moves with the machine's load)")


if __name__ == "__main__":
    asyncio.run(measure())
