"""Load test: a realistic mix of API calls at a target rate for N seconds, open loop.

    .venv/bin/python bench/load.py [--seconds 30] [--rate 150] [--workers 1]
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --api-key ck_live_... \\
        [--webhook-secret whsec_...]

Without ``--url`` it starts ``commerce serve --workers N`` itself on a fresh schema of
``--database-url`` (default ``BENCH_DATABASE_URL``, else the local ``test`` database),
dropped at the end, with the test gateway (its payments in the database, shared by the
workers), the projections and the webhook worker in the server processes as
``make run`` has them, a Stripe webhook secret of its own, and a per-key rate limit no
run can reach (one key sends everything, as in bench/http.py). With ``--url`` it drives a
server you run (``make run``, ``commerce serve``) with your key (an admin key: it creates
products, stock and customers, ships and refunds); there answers 429 count as errors,
and without ``--webhook-secret`` (or ``STRIPE_WEBHOOK_SECRET``) the webhook step is left
out. Products get SKUs of their own per run, so runs never collide.

Every call is the documented API (../shared/API.md), as a client makes it. One *flow* is
one buyer: browse a product, place an order of 1-3 lines (with an ``Idempotency-Key``),
charge it (``tok_visa``, with a key), the signed Stripe ``payment_intent.succeeded`` for
that payment (built as bench/webhooks.py builds them), ship it, refund part of it (one
flow in ``--refund-every``, default 5), list the latest orders. Open loop: flows start on
a fixed schedule, ``--rate`` requests per second divided by the calls per flow, whatever
the answers' latency and however many flows are still running; within a flow each call
waits for the one before (it needs its answer). So a slow server shows as latency and
errors, never as a lower offered rate (until the client's connection limit, whose wait
counts as latency too). A flow stops at its first failed call; the rest of its calls
are not made. Flows still running 60 s after the schedule ended are cancelled and
counted as unfinished.

Reported per step: requests, p50/p95/p99 latency, and the answers that were not the
expected status (by status code, or the client's error); then throughput, payments/s
(charges answered 201 ``captured``), webhooks accepted per minute and how long the
server took after the last one to record them all (``GET /webhooks/health``), the
client's own CPU and how late the schedule ran. ``--json FILE`` writes the report as JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/load.py` puts bench/ first on sys.path, where bench/http.py would stand in
# for the standard library's `http` package (httpx imports http.client); the repository root
# makes `bench.load_cpu` importable
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from bench import load_cpu

from adapters.postgres.connection import server_settings
from adapters.postgres.migrate import migrate

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
COMMERCE = str(Path(sys.executable).with_name("commerce"))
WEBHOOK_SECRET = "whsec_load_test"  # of the server this script starts
# one key sends everything: the per-key limit (ADR 0022) would only measure itself
UNTHROTTLED = {"RATE_LIMIT_PER_SECOND": "1000000", "RATE_LIMIT_BURST": "1000000"}
STEPS = ("browse", "place-order", "charge", "webhook", "ship", "refund", "list-orders")
EXPECTED = {"browse": 200, "list-orders": 200, "webhook": 200}  # the others: 201
STOCK = 1_000_000  # per SKU: more than any run reserves
CUSTOMERS = 20
REFUND_AMOUNT = 300  # minor units; every order costs more (prices from 500)
REQUEST_TIMEOUT = 30.0
CONNECTIONS_PER_CLIENT = 25
DRAIN_SECONDS = 60.0  # flows still running after the schedule ends get this long
WEBHOOK_WAIT_SECONDS = 120.0


# --- figures -------------------------------------------------------------------------


@dataclass
class StepStats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)  # unexpected answers only


@dataclass
class Recorder:
    """Latency and unexpected answers per step, and what the flows achieved."""

    steps: dict[str, StepStats] = field(default_factory=lambda: {s: StepStats() for s in STEPS})
    payments: int = 0
    webhooks: int = 0
    last_answer: float = 0.0

    async def call(self, step: str, request: Awaitable[httpx.Response]) -> httpx.Response | None:
        """The answer when it is the expected one, else None (counted by status or error)."""
        stats = self.steps[step]
        started = time.perf_counter()
        try:
            answer = await request
        except httpx.HTTPError as error:
            self.last_answer = time.perf_counter()
            stats.latencies.append(self.last_answer - started)
            stats.statuses[type(error).__name__] += 1
            return None
        self.last_answer = time.perf_counter()
        stats.latencies.append(self.last_answer - started)
        if answer.status_code != EXPECTED.get(step, 201):
            stats.statuses[str(answer.status_code)] += 1
            return None
        return answer


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


# --- the shop ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    skus: list[str]
    customer_ids: list[str]
    tenant_id: str


async def stock_the_shop(api: httpx.AsyncClient, skus: int) -> Shop:
    """Products of this run with plenty of stock, and customers (8 calls at a time)."""
    run = uuid.uuid4().hex[:6].upper()
    names = [f"LOAD-{run}-{i:04d}" for i in range(skus)]
    rng = random.Random(7)
    limit = asyncio.Semaphore(8)

    async def ok(request: Awaitable[httpx.Response]) -> Any:
        async with limit:
            answer = await request
        if not answer.is_success:
            raise RuntimeError(f"{answer.request.method} {answer.request.url}: {answer.text}")
        return answer.json()

    async def product(sku: str) -> None:
        price = {"amount": rng.randint(500, 5_000), "currency": "USD"}
        await ok(api.put(f"/api/v1/products/{sku}", json={"name": f"Item {sku}", "price": price}))
        await ok(api.post(f"/api/v1/inventory/{sku}/receipts", json={"quantity": STOCK}))

    await asyncio.gather(*(product(sku) for sku in names))
    customers = await asyncio.gather(
        *(
            ok(api.post("/api/v1/customers", json={"email": f"load-{run}-{i}@example.com"}))
            for i in range(CUSTOMERS)
        )
    )
    return Shop(names, [c["id"] for c in customers], str(customers[0]["tenant_id"]))


# --- one buyer -----------------------------------------------------------------------


def sign(secret: str, payload: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def succeeded_event(payment: dict[str, Any], tenant_id: str) -> bytes:
    """Stripe's ``payment_intent.succeeded`` for the payment, with the metadata we send."""
    now = int(time.time())
    intent = {
        "id": payment["gateway_payment_id"],
        "object": "payment_intent",
        "amount": payment["amount"],
        "amount_received": payment["amount"],
        "currency": payment["currency"].lower(),
        "capture_method": "automatic",
        "created": now,
        "latest_charge": f"ch_{uuid.uuid4().hex[:24]}",
        "livemode": False,
        "payment_method": f"pm_{uuid.uuid4().hex[:24]}",
        "payment_method_types": ["card"],
        "status": "succeeded",
        "metadata": {
            "tenant_id": tenant_id,
            "order_id": payment["order_id"],
            "payment_id": payment["id"],
        },
    }
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": now,
        "livemode": False,
        "pending_webhooks": 1,
        "type": "payment_intent.succeeded",
        "data": {"object": intent},
    }
    return json.dumps(event).encode()


@dataclass(frozen=True)
class Mix:
    shop: Shop
    webhook_secret: str | None
    refund_every: int

    @property
    def calls_per_flow(self) -> float:
        calls = len(STEPS) - 1 - (self.webhook_secret is None)  # refund: 1 in refund_every
        return calls + 1 / self.refund_every


async def flow(api: httpx.AsyncClient, mix: Mix, number: int, rec: Recorder) -> None:
    """One buyer's calls in order; stops at the first unexpected answer."""
    rng = random.Random(number)
    shop = mix.shop
    lines = [
        {"sku": sku, "quantity": rng.randint(1, 3)}
        for sku in rng.sample(shop.skus, rng.randint(1, 3))
    ]
    if await rec.call("browse", api.get(f"/api/v1/products/{lines[0]['sku']}")) is None:
        return
    body = {"customer": {"id": rng.choice(shop.customer_ids)}, "lines": lines, "currency": "USD"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    placed = await rec.call("place-order", api.post("/api/v1/orders", json=body, headers=key))
    if placed is None:
        return
    order_id = placed.json()["id"]
    card = {"type": "card", "token": "tok_visa"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    charge = {"order_id": order_id, "payment_method": card}
    charged = await rec.call(
        "charge", api.post("/api/v1/payments/charge", json=charge, headers=key)
    )
    if charged is None:
        return
    payment = charged.json()
    if payment["status"] != "captured":
        rec.steps["charge"].statuses[f"201 {payment['status']}"] += 1
        return
    rec.payments += 1
    if mix.webhook_secret is not None:
        payload = succeeded_event(payment, shop.tenant_id)
        signature = {
            "Stripe-Signature": sign(mix.webhook_secret, payload, int(time.time())),
            "Content-Type": "application/json",
        }
        posted = api.post("/api/v1/webhooks/stripe", content=payload, headers=signature)
        if await rec.call("webhook", posted) is None:
            return
        rec.webhooks += 1
    shipment = {"carrier": "ups", "tracking_number": f"1Z{number:016d}"}
    if (
        await rec.call("ship", api.post(f"/api/v1/orders/{order_id}/shipments", json=shipment))
        is None
    ):
        return
    if number % mix.refund_every == 0:
        refund = {"amount": REFUND_AMOUNT, "reason": "damaged"}
        if (
            await rec.call("refund", api.post(f"/api/v1/orders/{order_id}/refund", json=refund))
            is None
        ):
            return
    await rec.call("list-orders", api.get("/api/v1/orders", params={"limit": 20}))


@dataclass(frozen=True)
class Schedule:
    seconds: float
    rate: float  # requests per second offered
    first_flow: int = 0


@dataclass
class RunOutcome:
    flows: int
    unfinished: int
    elapsed: float
    max_lag: float
    cpu_seconds: float


async def run_flows(
    apis: Sequence[httpx.AsyncClient], mix: Mix, schedule: Schedule, rec: Recorder
) -> RunOutcome:
    """Starts flows on schedule for ``seconds`` (open loop), then lets them finish; the
    flows take the clients in turn."""
    interval = mix.calls_per_flow / schedule.rate
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()
    cpu = time.process_time()
    started, clock_started = loop.time(), time.perf_counter()
    count, max_lag = 0, 0.0
    while (due := started + count * interval) < started + schedule.seconds:
        await asyncio.sleep(max(0.0, due - loop.time()))
        max_lag = max(max_lag, loop.time() - due)
        api = apis[count % len(apis)]
        task = asyncio.create_task(flow(api, mix, schedule.first_flow + count, rec))
        running.add(task)
        task.add_done_callback(running.discard)
        count += 1
    unfinished = 0
    if running:
        _, pending = await asyncio.wait(set(running), timeout=DRAIN_SECONDS)
        unfinished = len(pending)
        for task in pending:
            task.cancel()
    # from the first flow's start to the last answer
    elapsed = max(rec.last_answer - clock_started, schedule.seconds / 100)
    return RunOutcome(count, unfinished, elapsed, max_lag, time.process_time() - cpu)


async def webhooks_settled(api: httpx.AsyncClient) -> tuple[float | None, dict[str, Any]]:
    """Seconds until no webhook waits to be recorded (None: not within the wait), and the
    last ``GET /webhooks/health``."""
    started = time.perf_counter()
    health: dict[str, Any] = {}
    while time.perf_counter() - started < WEBHOOK_WAIT_SECONDS:
        health = (await api.get("/api/v1/webhooks/health")).json()
        if health["received"] == 0 and health["failed"] == 0:
            return time.perf_counter() - started, health
        await asyncio.sleep(0.25)
    return None, health


# --- the report ----------------------------------------------------------------------


def report(
    rec: Recorder, outcome: RunOutcome, settled: float | None, health: dict[str, Any]
) -> dict[str, Any]:
    steps: dict[str, dict[str, Any]] = {}
    for name, stats in rec.steps.items():
        latencies = sorted(stats.latencies)
        steps[name] = {
            "requests": len(latencies),
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "errors": dict(stats.statuses),
        }
    requests = sum(s["requests"] for s in steps.values())
    elapsed = outcome.elapsed or float("nan")
    return {
        "flows": outcome.flows,
        "unfinished_flows": outcome.unfinished,
        "seconds": round(outcome.elapsed, 2),
        "requests": requests,
        "throughput_rps": round(requests / elapsed, 1),
        "errors": sum(sum(s["errors"].values()) for s in steps.values()),
        "payments_per_second": round(rec.payments / elapsed, 1),
        "webhooks_per_minute": round(rec.webhooks * 60 / elapsed, 1),
        "webhooks_recorded_after_s": None if settled is None else round(settled, 2),
        "webhook_health": health,
        "client_cpu_percent": round(100 * outcome.cpu_seconds / elapsed, 1),
        "schedule_max_lag_ms": round(outcome.max_lag * 1000, 1),
        "steps": steps,
    }


def per_payment(cpu: dict[str, float], payments: int) -> dict[str, float]:
    """CPU milliseconds per paid flow, and the paid flows a second the machine's cores
    would carry if the server and the database had them all (no client, nothing else)."""
    if not payments:
        return {}
    ms = {part: 1000 * cpu[f"{part}_s"] / payments for part in ("server", "database", "client")}
    return {
        **{f"{part}_ms_per_payment": round(value, 2) for part, value in ms.items()},
        "payments_per_second_ceiling": round(
            cpu["cores"] * 1000 / (ms["server"] + ms["database"]), 1
        ),
    }


def print_cpu(cpu: dict[str, float]) -> None:
    wall, cores = cpu["wall_s"], cpu["cores"]
    busy = sum(cpu[f"{part}_s"] for part in ("server", "database", "client", "other"))
    print(
        f"CPU over {wall:.1f} s ({cores:g} cores, {100 * busy / (wall * cores):.0f}% busy):"
        f" server {cpu['server_s']:.1f} s, database {cpu['database_s']:.1f} s,"
        f" client {cpu['client_s']:.1f} s, other {cpu['other_s']:.1f} s"
        + ("" if cpu["server_s"] else " (server: not ours, not measured)")
    )
    if "server_ms_per_payment" in cpu and cpu["server_s"]:
        print(
            f"per paid flow: server {cpu['server_ms_per_payment']:.1f} ms,"
            f" database {cpu['database_ms_per_payment']:.1f} ms,"
            f" client {cpu['client_ms_per_payment']:.1f} ms of CPU: with every core for the"
            f" server and the database, at most {cpu['payments_per_second_ceiling']:,.0f}"
            " paid flows/s here"
        )


def print_report(figures: dict[str, Any], offered: float) -> None:
    print(f"\n{'step':<12} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  errors")
    for name, s in figures["steps"].items():
        errors = ", ".join(f"{k}: {v}" for k, v in s["errors"].items()) or "0"
        print(
            f"{name:<12} {s['requests']:>8,} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f}"
            f" {s['p99_ms']:>8.1f}  {errors}"
        )
    f = figures
    print(
        f"\n{f['requests']:,} requests in {f['seconds']:.1f} s: {f['throughput_rps']:,.1f} req/s"
        f" (offered {offered:,.0f}/s), {f['errors']} errors, {f['flows']:,} flows"
        f" ({f['unfinished_flows']} unfinished)"
    )
    settled = f["webhooks_recorded_after_s"]
    payments, webhooks = f["payments_per_second"], f["webhooks_per_minute"]
    print(f"payments: {payments:,.1f}/s; webhooks: {webhooks:,.0f}/min accepted", end=" ")
    if not f["webhook_health"]:
        print("(none sent: no webhook secret)")
    elif settled is None:
        print(f"(not all recorded {WEBHOOK_WAIT_SECONDS:g} s after the run: {f['webhook_health']})")
    else:
        print(f"(all recorded {settled:.1f} s after the run: {f['webhook_health']})")
    print(
        f"client: {f['client_cpu_percent']:.0f}% of a CPU, schedule at most"
        f" {f['schedule_max_lag_ms']:.0f} ms late"
    )
    if "cpu" in f:
        print_cpu(f["cpu"])


# --- a server of our own -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _admin(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(dsn: str, schema: str) -> None:
    await _admin(dsn, f"CREATE SCHEMA {schema}")
    conn = await asyncpg.connect(dsn, server_settings=server_settings(schema))
    try:
        await migrate(conn)
    finally:
        await conn.close()


@contextlib.contextmanager
def fresh_schema(dsn: str) -> Iterator[str]:
    schema = f"bench_load_{uuid.uuid4().hex[:10]}"
    asyncio.run(_migrate(dsn, schema))
    try:
        yield schema
    finally:
        asyncio.run(_admin(dsn, f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


@dataclass(frozen=True)
class Target:
    url: str
    api_key: str
    webhook_secret: str | None
    pid: int | None = None  # our own server's: its processes' CPU is reported


@contextlib.contextmanager
def own_server(dsn: str, workers: int, log_level: str) -> Iterator[Target]:
    """``commerce serve --workers N`` on a fresh schema and a free port, and a tenant."""
    with fresh_schema(dsn) as schema, tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": dsn,
            "DATABASE_SCHEMA": schema,
            "EVENT_STORE": "postgres",
            "DATA_DIR": tmp,
            "PII_MASTER_KEY": os.urandom(32).hex(),
            "PAYMENT_GATEWAY": "fake",
            "FAKE_GATEWAY_STORE": "database",  # every worker sees every payment
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LOG_LEVEL": log_level,
            **UNTHROTTLED,
        }
        created = subprocess.run(
            [COMMERCE, "tenant", "create", f"load-{uuid.uuid4().hex[:8]}"],
            env=env,
            capture_output=True,
            check=True,
        )
        api_key = str(json.loads(created.stdout)["api_key"])
        port = free_port()
        log = Path(tmp) / "server.log"
        args = [COMMERCE, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with log.open("ab") as out:
            server = subprocess.Popen(
                [*args, "--workers", str(workers)], env=env, stdout=out, stderr=out
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_healthy(url, server, log)
            yield Target(url, api_key, WEBHOOK_SECRET, server.pid)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the server exited with {server.returncode}:\n{tail}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("no answer from /health within 60 s")


# --- main ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    seconds: float
    rate: float
    warmup: float
    skus: int
    refund_every: int
    connections: int


@contextlib.asynccontextmanager
async def clients(target: Target, connections: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """``connections`` split over clients of ``CONNECTIONS_PER_CLIENT``: httpx's pool does
    work in the square of its connections for every request, which at hundreds of
    connections costs the client more CPU than the requests and makes the schedule late."""
    limits = httpx.Limits(
        max_connections=CONNECTIONS_PER_CLIENT, max_keepalive_connections=CONNECTIONS_PER_CLIENT
    )
    async with contextlib.AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=target.url,
                    headers={"Authorization": f"Bearer {target.api_key}"},
                    timeout=REQUEST_TIMEOUT,
                    limits=limits,
                )
            )
            for _ in range(max(1, connections // CONNECTIONS_PER_CLIENT))
        ]


async def load_test(target: Target, options: Options) -> dict[str, Any]:
    async with clients(target, options.connections) as apis:
        api = apis[0]
        shop = await stock_the_shop(api, options.skus)
        mix = Mix(shop, target.webhook_secret, options.refund_every)
        if options.warmup > 0:
            print(f"warm-up: {options.warmup:g} s at {options.rate:g} requests/s")
            await run_flows(apis, mix, Schedule(options.warmup, options.rate, 10**9), Recorder())
        print(f"load: {options.seconds:g} s at {options.rate:g} requests/s")
        rec = Recorder()
        before = load_cpu.read(target.pid)
        outcome = await run_flows(apis, mix, Schedule(options.seconds, options.rate), rec)
        settled: float | None = None
        health: dict[str, Any] = {}
        if target.webhook_secret is not None:
            settled, health = await webhooks_settled(api)
        cpu = load_cpu.used(before, load_cpu.read(target.pid))
    figures = report(rec, outcome, settled, health)
    figures["cpu"] = {**cpu, **per_payment(cpu, rec.payments)}
    print_report(figures, options.rate)
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measured run")
    parser.add_argument("--rate", type=float, default=150.0, help="requests per second offered")
    parser.add_argument("--workers", type=int, default=1, help="granian workers of our server")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load not measured")
    parser.add_argument("--skus", type=int, default=200, help="products in the mix")
    parser.add_argument("--refund-every", type=int, default=5, help="one flow in N refunds")
    # beyond the limit calls queue in httpx's pools (a cost that grows with the queue)
    parser.add_argument("--connections", type=int, default=1000, help="client connection limit")
    parser.add_argument("--url", help="a running server (else one is started)")
    parser.add_argument("--api-key", default=os.environ.get("LOAD_API_KEY"))
    parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET"))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DSN))
    parser.add_argument("--log-level", default="info", help="our server's LOG_LEVEL")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.url and not args.api_key:
        parser.error("--url needs --api-key (or LOAD_API_KEY): an admin key of the tenant")
    if args.rate <= 0 or args.seconds <= 0 or args.refund_every < 1:
        parser.error("--rate and --seconds must be positive, --refund-every at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    options = Options(
        args.seconds, args.rate, args.warmup, args.skus, args.refund_every, args.connections
    )
    if args.url:
        target = Target(args.url.rstrip("/"), args.api_key, args.webhook_secret)
        print(f"load test against {target.url}")
        figures = asyncio.run(load_test(target, options))
    else:
        print(f"load test against our own server: {args.workers} worker(s), a fresh schema")
        with own_server(args.database_url, args.workers, args.log_level) as target:
            figures = asyncio.run(load_test(target, options))
    if args.json:
        args.json.write_text(json.dumps({"rate": args.rate, **figures}, indent=2))


if __name__ == "__main__":
    main()
