"""Merchant webhook benchmark: signed deliveries per second to a local HTTP receiver.

Run with ``.venv/bin/python bench/merchant_webhooks.py`` against the PostgreSQL named by
``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``), in a fresh
schema dropped at the end. ``BENCH_EVENTS`` (default 2,000) events fan out to
``BENCH_ENDPOINTS`` (default 4) endpoints of one tenant, all served by one asyncio receiver
in this process that answers 200. Shown, in the same run:

1. fan-out: deliveries recorded per second (one per event and endpoint, with the checkpoint);
2. delivery: deliveries sent per second by ``deliver_due`` (claim, resolve, sign, post,
   record the attempt), up to 4 at once per endpoint;
3. reference: the same bodies posted by a bare httpx client with the same concurrency, no
   database: the ceiling of this receiver and client on this machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)  # bench/http.py would stand in for the standard library's http

import asyncio  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from adapters.memory.clock import RandomIds, SystemClock  # noqa: E402
from adapters.merchant_webhooks.sender import HttpxWebhookSender, SystemResolver  # noqa: E402
from adapters.postgres.connection import create_pool  # noqa: E402
from adapters.postgres.merchant_webhooks import (  # noqa: E402
    PostgresWebhookDeliveries,
    PostgresWebhookEndpoints,
)
from adapters.postgres.migrate import migrate  # noqa: E402
from commerce_core.eventstore import Position  # noqa: E402
from commerce_core.merchant_webhooks import services  # noqa: E402
from commerce_core.merchant_webhooks.dispatch import DispatchDeps, deliver_due  # noqa: E402
from commerce_core.merchant_webhooks.events import WebhookEvent  # noqa: E402
from commerce_core.merchant_webhooks.fanout import FanOutDeps, body_of, fan_out  # noqa: E402
from commerce_core.merchant_webhooks.urls import UrlRules  # noqa: E402

DSN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
EVENTS = int(os.environ.get("BENCH_EVENTS", "2000"))
ENDPOINTS = int(os.environ.get("BENCH_ENDPOINTS", "4"))
PER_ENDPOINT = 4
TENANT = "bench-tenant"


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:  # keep-alive: one connection carries many deliveries
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


async def _reference(url: str, bodies: list[bytes]) -> float:
    gate = asyncio.Semaphore(PER_ENDPOINT * ENDPOINTS)
    async with httpx.AsyncClient(trust_env=False) as client:

        async def post(body: bytes) -> None:
            async with gate:
                answer = await client.post(url, content=body)
                assert answer.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(post(body) for body in bodies))
        return len(bodies) / (time.perf_counter() - started)


async def main() -> None:
    schema = f"bench_hooks_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(DSN)
    await admin.execute(f"CREATE SCHEMA {schema}")
    pool = await create_pool(DSN, schema=schema, min_size=2, max_size=10)
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hooks"
    sender = HttpxWebhookSender()
    try:
        async with pool.acquire() as conn:
            await migrate(conn)
        clock, ids, rules = SystemClock(), RandomIds(), UrlRules(allow_private=True)
        deliveries = PostgresWebhookDeliveries(pool)
        endpoints = PostgresWebhookEndpoints(pool, os.urandom(32))
        deps = services.EndpointDeps(endpoints, deliveries, clock, ids, rules)
        for _ in range(ENDPOINTS):
            command = services.RegisterEndpoint(url=url, events=["order.*"])
            await services.register(deps, TENANT, command)
        events = [
            WebhookEvent(
                id=uuid.uuid4(),
                type="order.paid",
                tenant=TENANT,
                occurred_at=datetime.now(UTC),
                payload={"order_id": str(uuid.uuid4()), "amount": 2799},
            )
            for _ in range(EVENTS)
        ]

        fanning = FanOutDeps(endpoints, deliveries, clock, ids)
        started = time.perf_counter()
        for n in range(0, EVENTS, 500):
            await fan_out(events[n : n + 500], Position(1, n), fanning)
        fanned = EVENTS * ENDPOINTS / (time.perf_counter() - started)

        dispatch = DispatchDeps(
            endpoints=endpoints,
            deliveries=deliveries,
            sender=sender,
            resolver=SystemResolver(),
            clock=clock,
            rules=rules,
            jitter=lambda: random.uniform(0.5, 1.0),
            per_endpoint=PER_ENDPOINT,
        )
        started = time.perf_counter()
        sent = 0
        while batch := await deliver_due(dispatch, limit=200):
            sent += batch
        delivered = sent / (time.perf_counter() - started)
        assert sent == EVENTS * ENDPOINTS, sent
        done = await pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'"
        )
        assert done == sent, done

        reference = await _reference(url, [body_of(e) for e in events] * ENDPOINTS)
        print(f"merchant webhooks: {EVENTS} events x {ENDPOINTS} endpoints")
        print(f"  fan-out (deliveries recorded)   {fanned:9,.0f} /s")
        print(f"  delivered (signed, recorded)    {delivered:9,.0f} /s")
        print(f"  reference: bare httpx posts     {reference:9,.0f} /s")
    finally:
        await sender.aclose()
        server.close()
        await pool.close()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
