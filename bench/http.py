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

import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

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
GOALS = {"place-order": (1_000, 0.10), "get-order": (3_000, 0.30)}
PLACE_P99_MS = 50.0


@dataclass(frozen=True)
class Result:
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


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
    return {
        **os.environ,
        "DATABASE_URL": dsn,
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


@contextlib.contextmanager
def running_server(env: dict[str, str], workers: int, log: Path) -> Iterator[int]:
    """``commerce serve`` on a free port until the block ends; yields the port."""
    port = free_port()
    args = [COMMERCE, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*args, "--workers", str(workers)], env=env, stdout=out, stderr=out
        )
    try:
        _wait_until_healthy(port, process, log)
        yield port
    finally:
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


def loadgen_name() -> str:
    if LOADGEN == "wrk" or (LOADGEN == "auto" and shutil.which("wrk")):
        return "wrk"
    return "bench/loadgen.py (install wrk for a cheaper client)"


# --- report --------------------------------------------------------------------------


def print_table(results: dict[tuple[int, str], Result]) -> None:
    print(f"\n{'workers':>7}  {'route':<12} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}", end="")
    print(f" {'errors':>7} {'requests':>9}  ratio to hello")
    for (workers, route), r in results.items():
        hello = results[(workers, "hello")].rps
        print(
            f"{workers:>7}  {route:<12} {r.rps:>8,.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f}"
            f" {r.errors:>7} {r.requests:>9,}  {r.rps / hello:.2f}"
        )


def print_goals(results: dict[tuple[int, str], Result]) -> None:
    print("\nGoals (the best worker count):")
    for route, (rate, ratio) in GOALS.items():
        workers, best = max(
            ((w, r) for (w, name), r in results.items() if name == route), key=lambda x: x[1].rps
        )
        hello = results[(workers, "hello")].rps
        checks = [
            (f"{best.rps:,.0f} req/s >= {rate:,}", best.rps >= rate),
            (f"ratio {best.rps / hello:.2f} >= {ratio:.2f}", best.rps / hello >= ratio),
        ]
        if route == "place-order":
            checks.append(
                (f"p99 {best.p99_ms:.1f} ms < {PLACE_P99_MS:g}", best.p99_ms < PLACE_P99_MS)
            )
        for text, met in checks:
            print(f"  {route:<12} ({workers} worker(s)) {text}: {'met' if met else 'NOT met'}")


def main() -> None:
    print(f"HTTP benchmark: commerce serve (granian), {CONCURRENCY} connections, {SECONDS:g} s")
    print(f"per route, {SKUS:,} SKUs, server LOG_LEVEL={LOG_LEVEL},", end=" ")
    print(f"load generator: {loadgen_name()}")
    results: dict[tuple[int, str], Result] = {}
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
        for workers in WORKERS:
            with running_server(env, workers, log) as port:
                shop = shop or stock_the_shop(port, api_key)
                routes = route_requests(shop)
                if "charge" in ROUTES:
                    routes["charge"] = charge_requests(orders_to_charge(port, shop, CHARGES))
                load(routes["place-order"], port, api_key, WARMUP_SECONDS, workdir)
                for route, requests in routes.items():
                    if route not in ROUTES:
                        continue
                    result = load(requests, port, api_key, SECONDS, workdir)
                    results[(workers, route)] = result
                    print(f"  {workers} worker(s) {route}: {result.rps:,.0f} req/s")
    print_table(results)
    print_goals(results)


if __name__ == "__main__":
    main()
