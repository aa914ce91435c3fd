"""HTTP benchmark: the real server (`commerce serve`, granian) with 1 and 2 workers.

Run with `.venv/bin/python bench/http.py` (part of `make bench`). It needs a PostgreSQL
named by ``BENCH_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``;
when that variable is unset and nothing answers there, an embedded PostgreSQL starts
under ``var/bench-pg``). Everything lives in a fresh schema, dropped at the end.

For each worker count the server starts on a free loopback port, and a load generator
in another process (``wrk`` when it is installed, else ``bench/loadgen.py``) keeps
``BENCH_CONCURRENCY`` (32) connections busy for ``BENCH_HTTP_SECONDS`` (8) per route:

- hello: ``POST /bench/hello`` (served with ``BENCH_ROUTES=1``): a msgspec body in
  and out through the same app, middleware and server, and a handler that does
  nothing else: the ceiling this stack reaches here;
- place-order: ``POST /api/v1/orders``, each request a new order of 1-3 lines of
  random SKUs out of ``BENCH_SKUS`` (1,000) for a known customer (stock is plenty:
  nothing runs out; with fewer SKUs more orders contend for a stock item and retry);
- get-order: ``GET /api/v1/orders/{id}`` over orders placed beforehand.
- charge: ``POST /api/v1/payments/charge`` (test gateway), each request paying one of
  ``BENCH_CHARGES`` orders placed beforehand (once they are all paid, further requests
  answer 409 order-already-paid and count as errors). The test gateway keeps its
  payments in the worker's memory (``BENCH_FAKE_GATEWAY_STORE``, default ``memory``),
  so the figure is the service's own cost, comparable with code before ADR 0016.

``BENCH_HTTP_ROUTES`` (default ``hello,place-order,get-order,charge``) picks the routes.
Each worker count runs in each of ``BENCH_SETUPS`` (default ``in-workers,outside``):
background work (projections, webhooks, jobs) in every HTTP worker, or ``RUN_PROJECTIONS=0``
with one ``commerce worker`` process beside the server; each route's scaling from 1 to 2
workers is printed per setup. ``BENCH_PROFILE=1`` adds a profile of place-order per server
run (py-spy on every server process, the server's database sessions by state and wait
event, statements per request): see bench/README.md.
After each route the bench waits for the server's background work to catch up with what the
load left (projections, the notification pipeline, the merchant webhooks' fan-out, notifications
due): ``then s`` is how long that took and ``sustained`` the route's requests over the load's
time and those seconds, the rate the service can keep up (the next route starts quiet).
The server runs with a per-key rate limit no run can reach (``RATE_LIMIT_PER_SECOND``
and ``RATE_LIMIT_BURST`` of 1,000,000): the limiter's cost is in the figures, its 429s
are not. It prints req/s, p50/p99 latency, errors (non-2xx answers and socket errors) and each
route's ratio to hello, then the goals. The server and the load generator share the
machine's CPUs, as they would with a local proxy; other load on the machine moves the
numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/http.py` puts bench/ first on sys.path, where this file would stand in
# for the standard library's `http` package in every module imported after this point.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
# the repository's root, for `bench.cpu_use` (where `bench/` is a package, not a path entry)
if str(Path(__file__).resolve().parent.parent) not in sys.path:
    sys.path.append(str(Path(__file__).resolve().parent.parent))

import asyncio
import contextlib
import dataclasses
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from bench.cpu_use import CpuUse, cpu_use, postgres_pids, process_ticks, snapshot

from adapters.postgres.connection import server_settings
from adapters.postgres.migrate import migrate

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SECONDS = float(os.environ.get("BENCH_HTTP_SECONDS", "8"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "32"))
WORKERS = tuple(int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(","))
LOADGEN = os.environ.get("BENCH_LOADGEN", "auto")  # auto | wrk | python
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "info")  # the server's; info logs every request
WARMUP_SECONDS = 2.0
ROUTES = os.environ.get("BENCH_HTTP_ROUTES", "hello,place-order,get-order,charge").split(",")
MAX_REQUESTS = 200_000  # per run, whatever the rate
SKUS = int(os.environ.get("BENCH_SKUS", "1000"))  # fewer: more orders contend per stock item
CUSTOMERS = 50
ORDERS_TO_READ = 200
CHARGES = int(os.environ.get("BENCH_CHARGES", "3000"))  # orders to pay, per server run
FAKE_GATEWAY_STORE = os.environ.get("BENCH_FAKE_GATEWAY_STORE", "memory")
STOCK = 1_000_000  # per SKU: more than any run can reserve
LOADGEN_SCRIPT = Path(__file__).resolve().parent / "loadgen.py"
COMMERCE = str(Path(sys.executable).with_name("commerce"))
# the limiter still runs (its cost is measured), with a quota no run can use up
UNTHROTTLED = {"RATE_LIMIT_PER_SECOND": "1000000", "RATE_LIMIT_BURST": "1000000"}
# issue 17's goals, all with 2 workers: each route's ratio to hello in the same run
GOAL_WORKERS = 2
GOALS = {"place-order": 0.15, "get-order": 0.5}
PLACE_P99_MS = 100.0  # place-order's p99 at 32 connections, 2 workers
SCALE_GOAL = 1.6  # place-order with 2 workers over 1 worker
# in-workers: background work (projections, webhooks, jobs) in every HTTP worker, the
# default; outside: RUN_PROJECTIONS=0 in the server and one `commerce worker` beside it
SETUPS = tuple(os.environ.get("BENCH_SETUPS", "in-workers,outside").split(","))
PROFILE = os.environ.get("BENCH_PROFILE", "0") in ("1", "true", "yes")
PROFILE_TOP = int(os.environ.get("BENCH_PROFILE_TOP", "12"))
PROFILE_ROUTE = os.environ.get("BENCH_PROFILE_ROUTE", "place-order")
SPY_RATE = 100  # samples a second
PROFILE_DIR = Path(os.environ.get("BENCH_PROFILE_DIR", "var/bench-profile"))
PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
REQUEST_COST_SCRIPT = Path(__file__).resolve().parent / "request_cost.py"
CPU_USE_SCRIPT = Path(__file__).resolve().parent / "cpu_use.py"


@dataclass(frozen=True)
class Result:
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    drained: float = 0.0  # seconds the background work took to catch up afterwards

    @property
    def sustained(self) -> float:
        """Requests over the load's time and the catching up after it."""
        return self.requests / (self.requests / self.rps + self.drained) if self.rps else 0.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str = ""


# --- database ------------------------------------------------------------------------


@contextlib.contextmanager
def database() -> Iterator[str]:
    """The DSN to use: BENCH_DATABASE_URL, the local server, or an embedded one."""
    dsn = os.environ.get("BENCH_DATABASE_URL")
    if dsn or asyncio.run(_answers(DEFAULT_DSN)):
        yield dsn or DEFAULT_DSN
        return
    from entrypoints.embedded_db import start_embedded_postgres

    print("no PostgreSQL at the default address: starting an embedded one in var/bench-pg")
    server, uri = start_embedded_postgres(Path("var/bench-pg"))
    try:
        yield uri
    finally:
        server.close()


async def _answers(dsn: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def _create_schema(dsn: str, schema: str) -> None:
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn, server_settings=server_settings(schema))
    try:
        await migrate(conn)
    finally:
        await conn.close()


async def _drop_schema(dsn: str, schema: str) -> None:
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await admin.close()


@contextlib.contextmanager
def fresh_schema(dsn: str) -> Iterator[str]:
    schema = f"bench_http_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_schema(dsn, schema))
    try:
        yield schema
    finally:
        asyncio.run(_drop_schema(dsn, schema))


# --- server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(dsn: str, schema: str, data_dir: Path) -> dict[str, str]:
    # the schema's name as application_name: the profile tells the server's sessions
    # apart from everyone else's on the database (pg_stat_activity)
    named = f"{dsn}{'&' if '?' in dsn else '?'}application_name={schema}"
    return {
        **os.environ,
        "DATABASE_URL": named,
        "DATABASE_SCHEMA": schema,
        "EVENT_STORE": "postgres",
        "DATA_DIR": str(data_dir),
        "PII_MASTER_KEY": os.urandom(32).hex(),
        "PAYMENT_GATEWAY": "fake",
        "FAKE_GATEWAY_STORE": FAKE_GATEWAY_STORE,
        "LOG_LEVEL": LOG_LEVEL,
        "BENCH_ROUTES": "1",
        # one key sends everything here: the per-key limit (ADR 0022) would measure itself
        **UNTHROTTLED,
    }


def create_tenant(env: dict[str, str]) -> str:
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    created = subprocess.run(
        [COMMERCE, "tenant", "create", slug], env=env, capture_output=True, check=True
    )
    return str(json.loads(created.stdout)["api_key"])


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    helpers: tuple[int, ...] = ()  # the `commerce worker` beside it (setup `outside`)


@contextlib.contextmanager
def running_server(env: dict[str, str], workers: int, log: Path) -> Iterator[Server]:
    """``commerce serve`` on a free port until the block ends."""
    port = free_port()
    args = [COMMERCE, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*args, "--workers", str(workers)], env=env, stdout=out, stderr=out
        )
    workers_seen: list[int] = []
    try:
        _wait_until_healthy(port, process, log)
        workers_seen = descendants(process.pid)
        yield Server(port, process.pid)
    finally:
        _stop(process)
        # a worker whose supervisor had to be killed lives on (pool open, projections
        # running): it would load every later run and hold the database's connections
        for pid in workers_seen:
            _kill_if_ours(pid, port)


def _kill_if_ours(pid: int, port: int) -> None:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return  # gone, as it should be
    if b"serve" in command and str(port).encode() in command:  # not a reused pid
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            print(f"  (killed server process {pid}, left behind by its supervisor)")


@contextlib.contextmanager
def running_setup(env: dict[str, str], setup: str, workers: int, log: Path) -> Iterator[Server]:
    """The server of ``setup``: with its background work in the HTTP workers, or with
    ``RUN_PROJECTIONS=0`` and one ``commerce worker`` process doing it beside them."""
    if setup == "in-workers":
        with running_server({**env, "RUN_PROJECTIONS": "1"}, workers, log) as server:
            yield server
        return
    if setup != "outside":
        raise ValueError(f"BENCH_SETUPS: {setup!r} is neither in-workers nor outside")
    with log.open("ab") as out:
        worker = subprocess.Popen([COMMERCE, "worker"], env=env, stdout=out, stderr=out)
    try:
        with running_server({**env, "RUN_PROJECTIONS": "0"}, workers, log) as server:
            yield Server(server.port, server.pid, (worker.pid,))
    finally:
        _stop(worker)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}; see {log}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"no answer from /health within 60 s; see {log}")


# --- the shop ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    api_key: str
    customer_ids: list[str]
    order_ids: list[str]


def sku(i: int) -> str:
    return f"BENCH-{i:04d}"


def order_body(rng: random.Random, customer_ids: list[str]) -> dict[str, Any]:
    skus = rng.sample(range(SKUS), rng.randint(1, 3))
    return {
        "customer": {"id": rng.choice(customer_ids)},
        "lines": [{"sku": sku(i), "quantity": rng.randint(1, 3)} for i in skus],
        "currency": "USD",
    }


def stock_the_shop(port: int, api_key: str) -> Shop:
    """Products with plenty of stock, customers, and orders to read back."""
    rng = random.Random(7)
    auth = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=auth) as api:

        def ok(answer: httpx.Response) -> Any:
            if not answer.is_success:
                raise RuntimeError(f"{answer.request.method} {answer.request.url}: {answer.text}")
            return answer.json()

        for i in range(SKUS):
            price = {"amount": rng.randint(500, 5_000), "currency": "USD"}
            ok(api.put(f"/products/{sku(i)}", json={"name": f"Item {i}", "price": price}))
            ok(api.post(f"/inventory/{sku(i)}/receipts", json={"quantity": STOCK}))
        customers = [
            ok(api.post("/customers", json={"email": f"buyer{i}@example.com"}))["id"]
            for i in range(CUSTOMERS)
        ]
        orders = [
            ok(api.post("/orders", json=order_body(rng, customers)))["id"]
            for _ in range(ORDERS_TO_READ)
        ]
    return Shop(api_key, customers, orders)


def orders_to_charge(port: int, shop: Shop, count: int) -> list[str]:
    """``count`` new unpaid orders, placed 16 at a time."""
    rng = random.Random(13)
    api_key = shop.api_key
    bodies = [order_body(rng, shop.customer_ids) for _ in range(count)]

    async def place_all() -> list[str]:
        auth = {"Authorization": f"Bearer {api_key}"}
        limit = asyncio.Semaphore(16)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}/api/v1", headers=auth, timeout=30
        ) as api:

            async def place(body: dict[str, Any]) -> str:
                async with limit:
                    answer = await api.post("/orders", json=body)
                    answer.raise_for_status()
                    return str(answer.json()["id"])

            return await asyncio.gather(*(place(body) for body in bodies))

    return asyncio.run(place_all())


def charge_requests(order_ids: list[str]) -> list[Request]:
    card = {"type": "card", "token": "tok_visa"}
    return [
        Request(
            "POST", "/api/v1/payments/charge", json.dumps({"order_id": oid, "payment_method": card})
        )
        for oid in order_ids
    ]


def route_requests(shop: Shop) -> dict[str, list[Request]]:
    rng = random.Random(11)
    return {
        "hello": [Request("POST", "/bench/hello", json.dumps({"name": "bench"}))],
        "place-order": [
            Request("POST", "/api/v1/orders", json.dumps(order_body(rng, shop.customer_ids)))
            for _ in range(500)
        ],
        "get-order": [Request("GET", f"/api/v1/orders/{oid}") for oid in shop.order_ids],
    }


# --- load generators -----------------------------------------------------------------


def raw_request(request: Request, port: int, api_key: str) -> str:
    lines = [
        f"{request.method} {request.path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: Bearer {api_key}",
    ]
    if request.body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(request.body)}"]
    return "\r\n".join(lines) + "\r\n\r\n" + request.body


def load_with_python(
    requests: list[Request], port: int, api_key: str, seconds: float, workdir: Path
) -> Result:
    plan = {
        "host": "127.0.0.1",
        "port": port,
        "concurrency": CONCURRENCY,
        "seconds": seconds,
        "max_requests": MAX_REQUESTS,
        "requests": [raw_request(r, port, api_key) for r in requests],
    }
    plan_file = workdir / "plan.json"
    plan_file.write_text(json.dumps(plan))
    # -P: bench/ must not shadow the standard library there either
    answer = subprocess.run(
        [sys.executable, "-P", str(LOADGEN_SCRIPT), str(plan_file)],
        capture_output=True,
        check=True,
        timeout=seconds + 60,
    )
    out = json.loads(answer.stdout)
    return Result(out["requests"], out["errors"], out["rps"], out["p50_ms"], out["p99_ms"])


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def wrk_script(requests: list[Request], api_key: str, threads: int) -> str:
    rendered = ",\n".join(
        f"  wrk.format({_lua_string(r.method)}, {_lua_string(r.path)}, headers, "
        f"{_lua_string(r.body) if r.body else 'nil'})"
        for r in requests
    )
    return f"""
local headers = {{["Authorization"] = "Bearer {api_key}", ["Content-Type"] = "application/json"}}
local requests = nil
local i = 0
local threads = 0
function setup(thread)
  thread:set("number", threads)
  threads = threads + 1
end
function init(args)
  requests = {{
{rendered}
  }}
  i = number  -- each thread walks its own share: a request comes round again only after all
end
function request()
  local r = requests[i % #requests + 1]
  i = i + {threads}
  return r
end
"""


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def load_with_wrk(
    requests: list[Request], port: int, api_key: str, seconds: float, workdir: Path
) -> Result:
    script = workdir / "requests.lua"
    threads = min(2, CONCURRENCY)
    script.write_text(wrk_script(requests, api_key, threads))
    args = ["wrk", "-t", str(threads), "-c", str(CONCURRENCY), "-d", f"{seconds:g}s"]
    args += ["--latency", "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}"]
    out = subprocess.run(args, capture_output=True, check=True, text=True, timeout=seconds + 60)
    text = out.stdout
    total = int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    p50 = re.search(r"\s50%\s+(\S+)", text)
    p99 = re.search(r"\s99%\s+(\S+)", text)
    if p50 is None or p99 is None:
        raise RuntimeError(f"no latency distribution in wrk's output:\n{text}")
    return Result(total, errors, rps, _ms(p50.group(1)), _ms(p99.group(1)))


def load(requests: list[Request], port: int, api_key: str, seconds: float, workdir: Path) -> Result:
    use_wrk = LOADGEN == "wrk" or (LOADGEN == "auto" and shutil.which("wrk") is not None)
    generate = load_with_wrk if use_wrk else load_with_python
    return generate(requests, port, api_key, seconds, workdir)


def measured_load(
    requests: list[Request], target: Target, sessions: list[int]
) -> tuple[Result, CpuUse]:
    """``load``, and where the machine's CPU went meanwhile (bench/cpu_use.py);
    ``sessions``: the pids of the server's database sessions."""
    server = target.server
    servers = [*descendants(server.pid), *server.helpers]
    pids = servers + postgres_pids()
    before = snapshot(pids, time.monotonic())
    result = load(requests, server.port, target.api_key, SECONDS, target.workdir)
    after = snapshot(pids, time.monotonic())
    return result, cpu_use(before, after, servers, sessions)


async def session_pids(dsn: str, application: str) -> list[int]:
    """The backend pids of the server's database sessions (its ``application_name``);
    none when the database takes no more connections (the split then shows them as 0)."""
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return []
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1", application
        )
    finally:
        await conn.close()
    return [int(row["pid"]) for row in rows]


# What the background work has still to do: projections, the notification pipeline and
# the merchant webhooks' fan-out behind the log's newest event, notifications due to send.
_BEHIND = """
WITH head AS (
  SELECT tx_id, tx_id::text::bigint AS tx, global_position AS pos FROM events
  ORDER BY tx_id DESC, global_position DESC LIMIT 1
)
SELECT (SELECT count(*) FROM projection_checkpoints c, head
         WHERE (c.tx_id, c.global_position) < (head.tx_id, head.pos))
     + (SELECT count(*) FROM notification_checkpoint c, head
         WHERE (c.tx_id, c.global_position) < (head.tx, head.pos))
     + (SELECT count(*) FROM webhook_fanout_checkpoint c, head
         WHERE (c.tx_id, c.global_position) < (head.tx, head.pos))
     + (SELECT count(*) FROM notifications WHERE status = 'pending' AND next_attempt_at <= now())
"""
DRAIN_LIMIT = 300.0  # seconds: a backlog still there then is reported as such


async def _drain(dsn: str, schema: str) -> float:
    conn = await asyncpg.connect(dsn, server_settings=server_settings(schema))
    try:
        started = time.monotonic()
        while await conn.fetchval(_BEHIND):
            if time.monotonic() - started > DRAIN_LIMIT:
                break
            await asyncio.sleep(0.05)
        return time.monotonic() - started
    finally:
        await conn.close()


def drain(target: Target) -> float:
    """Seconds until the server's background work has caught up with what the load left
    (it goes on after the load generator stops): a write route's sustained rate counts them."""
    return asyncio.run(_drain(target.dsn, target.schema))


def loadgen_name() -> str:
    if LOADGEN == "wrk" or (LOADGEN == "auto" and shutil.which("wrk")):
        return "wrk"
    return "bench/loadgen.py (install wrk for a cheaper client)"


# --- profile -------------------------------------------------------------------------


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (granian's workers), read from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(child) for child in children.read_text().split()]
    return found


@contextlib.contextmanager
def sampling(pids: list[int], seconds: float, workdir: Path) -> Iterator[list[Path]]:
    """py-spy samples each of ``pids`` (100 a second, CPU only: idle waits are left
    out) for ``seconds`` while the block runs; yields the collapsed-stack files."""
    outs, spies = [], []
    for pid in pids:
        out = workdir / f"spy-{pid}.txt"
        args = [PY_SPY, "record", "-p", str(pid), "-d", str(max(1, int(seconds)))]
        args += ["-r", str(SPY_RATE), "-f", "raw", "--function", "--nonblocking", "-o", str(out)]
        spies.append(subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        outs.append(out)
    try:
        yield outs
    finally:
        for spy in spies:
            spy.wait(timeout=seconds + 30)


_LINE = re.compile(r":\d+\)$")


def _frame(text: str) -> str:
    """``name (path)`` with the path from the package on, without a line number."""
    text = _LINE.sub(")", text.strip())
    for marker in ("site-packages/", "/src/", "/bench/"):
        if marker in text:
            name, _, path = text.partition(" (")
            return f"{name} ({path.rsplit(marker, 1)[-1]}"
    return text


def _package(frame: str) -> str:
    path = frame.rpartition(" (")[2].rstrip(")")
    if "/lib/python" in path:  # the standard library: its module
        return "stdlib " + path.rsplit("/", 1)[-1].removesuffix(".py")
    return path.split("/", 1)[0].removesuffix(".py")


@dataclass
class Sessions:
    """The server's database sessions as seen while a load ran."""

    looks: int = 0
    states: Counter[str] = field(default_factory=Counter)  # summed over the looks
    ticks: dict[int, tuple[int, int]] = field(default_factory=dict)  # pid: first, last CPU

    def cpu_seconds(self) -> float:
        """CPU the sessions' backends used between the first and the last look (the
        database is on this machine: its processes' CPU is in /proc)."""
        used = sum(last - first for first, last in self.ticks.values())
        return used / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def watching_sessions(dsn: str, application: str) -> Iterator[Sessions]:
    """Samples the server's database sessions (``pg_stat_activity``) 10 times a second
    while the block runs: how many are idle (waiting for the app), running, or waiting
    on a lock, the WAL or I/O, i.e. what the database makes placements wait for; and
    the CPU their backend processes use."""
    seen = Sessions()
    stop = threading.Event()

    async def watch() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            while not stop.is_set():
                seen.looks += 1
                for state, pid in await conn.fetch(_SESSIONS, application):
                    seen.states[state] += 1
                    if (ticks := process_ticks(pid)) is not None:
                        seen.ticks[pid] = (seen.ticks.get(pid, (ticks, ticks))[0], ticks)
                await asyncio.sleep(0.1)
        finally:
            await conn.close()

    thread = threading.Thread(target=lambda: asyncio.run(watch()), daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=10)


_SESSIONS = """
SELECT CASE WHEN state = 'active' AND wait_event IS NULL THEN 'active, running'
            WHEN state = 'active' THEN 'active, waiting ' || wait_event_type || ':' || wait_event
            ELSE coalesce(state, '?') END, pid
FROM pg_stat_activity WHERE application_name = $1 AND backend_type = 'client backend'
"""


@dataclass(frozen=True)
class Profile:
    samples: int
    by_package: list[tuple[str, int]]  # self time, by package of the innermost frame
    by_function: list[tuple[str, int]]  # self time
    ours: list[tuple[str, int]]  # time inside each of our functions, callees included
    busy: list[float]  # per sampled process: the share of one core it kept busy
    sessions: Sessions
    requests: int  # answered while sampled


def read_profile(files: list[Path], sessions: Sessions, requests: int) -> Profile:
    packages: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    busy: list[float] = []
    for file in files:
        if not file.exists():  # not a Python process (nothing to sample)
            continue
        before = total
        for line in file.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            samples, frames = int(count), [_frame(f) for f in stack.split(";")]
            total += samples
            leaves[frames[-1]] += samples
            packages[_package(frames[-1])] += samples
            for frame in set(frames):
                if _package(frame) in ("commerce_core", "adapters", "entrypoints"):
                    ours[frame] += samples
        if total > before:  # a process that did something: not granian's supervisor
            busy.append((total - before) / (SPY_RATE * SECONDS))
    top = PROFILE_TOP
    return Profile(
        total,
        packages.most_common(top),
        leaves.most_common(top),
        ours.most_common(top),
        busy,
        sessions,
        requests,
    )


@dataclass(frozen=True)
class Target:
    """What a run loads: a running server, its key and where to put files."""

    name: str
    server: Server
    api_key: str
    workdir: Path
    dsn: str
    schema: str  # the server's application_name


def profile_route(target: Target, requests: list[Request]) -> tuple[Profile, float | None]:
    """``BENCH_PROFILE_ROUTE`` under load once more, sampled by py-spy in every server process;
    with the statements per request from ``pg_stat_statements`` when the server has it."""
    name, server, workdir, dsn = target.name, target.server, target.workdir, target.dsn
    before = asyncio.run(statement_calls(dsn))
    with (
        watching_sessions(dsn, target.schema) as sessions,
        sampling(descendants(server.pid), SECONDS, workdir) as files,
    ):
        result = load(requests, server.port, target.api_key, SECONDS, workdir)
    after = asyncio.run(statement_calls(dsn))
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    for file in files:  # kept for flame graph tools (collapsed stacks)
        if file.exists():
            shutil.copy(file, PROFILE_DIR / f"{name}-{file.name}")
    per_request = None
    if before is not None and after is not None and result.requests:
        per_request = (after - before) / result.requests
    return read_profile(files, sessions, result.requests), per_request


async def statement_calls(dsn: str) -> int | None:
    """Statements run so far in this database by ``pg_stat_statements``; None without it
    (it needs ``shared_preload_libraries``). Other sessions on the database count too."""
    try:
        conn = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        return int(
            await conn.fetchval(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    except asyncpg.PostgresError:  # not installed here, or not preloaded
        return None
    finally:
        await conn.close()


def asyncpg_round_trips() -> None:
    """Without ``pg_stat_statements``: the asyncpg calls of one place-order and one
    charge, counted in-process by bench/request_cost.py (they do not depend on load)."""
    spec = importlib.util.spec_from_file_location("request_cost", REQUEST_COST_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    os.environ["LOG_LEVEL"] = "warning"  # its app logs each request at info
    seen, _ = asyncio.run(module.round_trips())
    module.print_round_trips(seen)


def print_profile(name: str, profile: Profile, per_request: float | None) -> None:
    print(f"\nProfile of {PROFILE_ROUTE}, {name}: {profile.samples:,} CPU samples (py-spy)")
    if per_request is not None:
        print(f"  {per_request:.1f} statements per request (pg_stat_statements)")
    busy = ", ".join(f"{share:.0%}" for share in profile.busy)
    print(f"  each server process kept this much of one core busy: {busy}")
    requests = max(profile.requests, 1)
    app_ms = 1000 * profile.samples / SPY_RATE / requests
    db_ms = 1000 * profile.sessions.cpu_seconds() / requests
    print(f"  CPU per request ({profile.requests:,} requests): app {app_ms:.1f} ms,", end=" ")
    print(f"its database sessions {db_ms:.1f} ms")
    looks = max(profile.sessions.looks, 1)
    print(f"  the server's database sessions, on average over {looks} looks:")
    for state, count in profile.sessions.states.most_common():
        print(f"    {count / looks:5.1f}  {state}")
    for title, rows in (
        ("self time by package", profile.by_package),
        ("self time by function", profile.by_function),
        ("our functions, callees included", profile.ours),
    ):
        print(f"  {title}:")
        for what, samples in rows:
            print(f"    {100 * samples / max(profile.samples, 1):5.1f}%  {what}")


# --- report --------------------------------------------------------------------------


Key = tuple[str, int, str]  # setup, workers, route


def print_table(results: dict[Key, Result]) -> None:
    """Each run; ``then s``: the seconds the background work took to catch up after the
    load, and ``sustained``: the requests over the load's time and those seconds."""
    print(f"\n{'setup':<10} {'workers':>7}  {'route':<12} {'req/s':>8} {'p50 ms':>7}", end="")
    print(f" {'p99 ms':>7} {'errors':>7} {'requests':>9} {'then s':>7} {'sustained':>10}", end="")
    print("  ratio to hello")
    for (setup, workers, route), r in results.items():
        hello = results.get((setup, workers, "hello"))
        ratio = f"{r.rps / hello.rps:.2f}" if hello else "-"
        late = " (still behind)" if r.drained >= DRAIN_LIMIT else ""
        print(
            f"{setup:<10} {workers:>7}  {route:<12} {r.rps:>8,.0f} {r.p50_ms:>7.1f}"
            f" {r.p99_ms:>7.1f} {r.errors:>7} {r.requests:>9,} {r.drained:>7.1f}"
            f" {r.sustained:>10,.0f}  {ratio}{late}"
        )


def print_scaling(results: dict[Key, Result]) -> None:
    """Each route's rate with the most workers over its rate with one, per setup."""
    if len(WORKERS) < 2 or 1 not in WORKERS:
        return
    most = max(WORKERS)
    print(f"\nScaling ({most} workers over 1):")
    for setup in SETUPS:
        for route in ROUTES:
            one, many = results.get((setup, 1, route)), results.get((setup, most, route))
            if one is None or many is None or not one.rps:
                continue
            scale = many.rps / one.rps
            goal = ""
            if route == "place-order":
                goal = f"  (goal >= {SCALE_GOAL:g}: {'met' if scale >= SCALE_GOAL else 'NOT met'})"
            print(f"  {setup:<10} {route:<12} {scale:.2f}x{goal}")


def print_goals(results: dict[Key, Result]) -> None:
    """Issue 17's goals, per setup: ratios to hello with 2 workers, place-order's p99
    with 2 workers and its scaling from 1 to 2 workers."""
    print(f"\nGoals (issue 17; {GOAL_WORKERS} workers, each setup):")
    for setup in SETUPS:
        hello = results.get((setup, GOAL_WORKERS, "hello"))
        checks = []
        for route, ratio in GOALS.items():
            run = results.get((setup, GOAL_WORKERS, route))
            if run is None or hello is None:
                continue
            share = run.rps / hello.rps
            checks.append((f"{route} ratio to hello {share:.2f} >= {ratio:g}", share >= ratio))
            if route == "place-order":
                p99 = run.p99_ms
                text = f"place-order p99 {p99:.1f} ms <= {PLACE_P99_MS:g}"
                checks.append((text, p99 <= PLACE_P99_MS))
        one = results.get((setup, 1, "place-order"))
        many = results.get((setup, GOAL_WORKERS, "place-order"))
        if one is not None and many is not None and one.rps:
            scale = many.rps / one.rps
            text = f"place-order {GOAL_WORKERS} workers over 1: {scale:.2f}x >= {SCALE_GOAL:g}"
            checks.append((text, scale >= SCALE_GOAL))
        for text, met in checks:
            print(f"  {setup:<10} {text}: {'met' if met else 'NOT met'}")


def print_cpu(cpu: dict[Key, CpuUse], results: dict[Key, Result]) -> None:
    """Where the cores went during each route's run (bench/cpu_use.py), in shares of one
    core; then the CPU per request of the server processes and of their database sessions,
    which other load on the machine moves far less than req/s."""
    print("\nCPU during each run, in shares of one core (/proc, utime + stime):")
    for key, used in cpu.items():
        setup, workers, route = key
        print(f"  {setup}, {workers} worker(s), {route}: {used.line()}")
    print("\nCPU per request (ms; server processes, their database sessions):")
    for key, used in cpu.items():
        setup, workers, route = key
        requests = max(results[key].requests, 1)
        app_ms = 1000 * sum(used.servers) * used.seconds / requests
        db_ms = 1000 * used.database * used.seconds / requests
        print(f"  {setup:<10} {workers} worker(s) {route:<12} {app_ms:6.2f} {db_ms:6.2f}")


def main() -> None:
    if PROFILE and not Path(PY_SPY).exists():
        raise SystemExit("BENCH_PROFILE=1 needs py-spy: pip install py-spy (or make install)")
    print(f"HTTP benchmark: commerce serve (granian), {CONCURRENCY} connections, {SECONDS:g} s")
    print(f"per route, {SKUS:,} SKUs, server LOG_LEVEL={LOG_LEVEL},", end=" ")
    print(f"load generator: {loadgen_name()}, setups: {', '.join(SETUPS)}")
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    results: dict[Key, Result] = {}
    cpu: dict[Key, CpuUse] = {}
    profiles: dict[str, tuple[Profile, float | None]] = {}
    with (
        database() as dsn,
        fresh_schema(dsn) as schema,
        tempfile.TemporaryDirectory(prefix="bench-http-") as tmp,
    ):
        workdir = Path(tmp)
        env = server_env(dsn, schema, workdir)
        api_key = create_tenant(env)
        log = workdir / "server.log"
        shop: Shop | None = None
        for setup in SETUPS:
            for workers in WORKERS:
                with running_setup(env, setup, workers, log) as server:
                    port = server.port
                    shop = shop or stock_the_shop(port, api_key)
                    routes = route_requests(shop)
                    if "charge" in ROUTES:
                        routes["charge"] = charge_requests(orders_to_charge(port, shop, CHARGES))
                    load(routes["place-order"], port, api_key, WARMUP_SECONDS, workdir)
                    target = Target(f"{setup}-{workers}w", server, api_key, workdir, dsn, schema)
                    sessions = asyncio.run(session_pids(dsn, schema))
                    drain(target)  # what the warm-up and the run before left
                    for route in ROUTES:
                        result, used = measured_load(routes[route], target, sessions)
                        # a write route leaves background work (projections, notifications)
                        # that would otherwise run during the next route
                        result = dataclasses.replace(result, drained=drain(target))
                        results[(setup, workers, route)] = result
                        cpu[(setup, workers, route)] = used
                        print(f"  {setup}, {workers} worker(s) {route}: {result.rps:,.0f} req/s")
                    if PROFILE:
                        profiles[f"{setup}, {workers} worker(s)"] = profile_route(
                            target, routes[PROFILE_ROUTE]
                        )
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")
    print_table(results)
    print_scaling(results)
    print_cpu(cpu, results)
    print_goals(results)
    for name, (profile, per_request) in profiles.items():
        print_profile(name, profile, per_request)
    if PROFILE and all(per_request is None for _, per_request in profiles.values()):
        print("\nRound trips per request (no pg_stat_statements here: asyncpg calls counted")
        print("in-process by bench/request_cost.py):")
        asyncpg_round_trips()


if __name__ == "__main__":
    main()
