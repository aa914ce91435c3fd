"""Flash sale: many buyers of one SKU, each placing an order and paying it at once.

Run with `.venv/bin/python bench/flash_sale.py`. Same server, database and schema handling
as ``bench/http.py`` (``BENCH_DATABASE_URL``, a fresh schema dropped at the end, the test
gateway in memory, rate limits out of reach), ``BENCH_WORKERS`` (default ``1``) server
workers.

``BENCH_FLASH_CLIENTS`` (32) clients each run the two-call flow in a loop for
``BENCH_FLASH_SECONDS`` (10) per scenario: ``POST /api/v1/orders`` (one line, one unit) then
``POST /api/v1/payments/charge`` for that order. Two scenarios alternate,
``BENCH_FLASH_ROUNDS`` (1) times each:

- ``spread``: every order is for one of ``BENCH_SKUS`` (1,000) SKUs at random (the reference:
  hardly two orders meet on a stock item);
- ``hot``: every order is for the same SKU.

A client answered 409 retries that call (up to 5 times, as a careful client would) and every
409 it saw is counted; a flow that still fails counts as failed. Printed per scenario: paid
orders per second, p50/p99 of the whole flow and of each call, 409s that reached clients,
failed flows; then the hot rate as a share of the spread rate, and the goals. At the end the
hot SKU's stock is checked once the background work settled: its on-hand must be its receipt
less one unit per paid order, and nothing may stay reserved for a paid order.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/flash_sale.py` puts bench/ first on sys.path, where bench/http.py would stand
# in for the standard library's `http`; the repository root makes `bench.http` importable.
_HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == _HERE:
    sys.path.pop(0)
sys.path.insert(0, str(_HERE.parent))

import asyncio  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
from bench.http import (  # noqa: E402
    create_tenant,
    database,
    fresh_schema,
    running_server,
    server_env,
)

SECONDS = float(os.environ.get("BENCH_FLASH_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_FLASH_CLIENTS", "32"))
ROUNDS = int(os.environ.get("BENCH_FLASH_ROUNDS", "1"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
SKUS = int(os.environ.get("BENCH_SKUS", "1000"))
RETRIES = 5
HOT_SKU = "FLASH-HOT"
STOCK = 1_000_000  # per SKU: more than any run can sell
CUSTOMERS = 20
SETTLE_SECONDS = 30.0
GOAL_SHARE = 0.5
GOAL_P99_MS = 500.0


def sku(i: int) -> str:
    return f"FLASH-{i:04d}"


@dataclass
class Tally:
    """What the clients of one scenario saw."""

    paid: int = 0
    failed: int = 0
    conflicts: int = 0
    other_errors: Counter[str] = field(default_factory=Counter)
    flow_ms: list[float] = field(default_factory=list)
    place_ms: list[float] = field(default_factory=list)
    charge_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


async def _call(
    api: httpx.AsyncClient, path: str, body: dict[str, Any], tally: Tally
) -> dict[str, Any] | None:
    """One call, retried on 409 concurrency-conflict; None when it failed."""
    for _ in range(RETRIES + 1):
        answer = await api.post(path, json=body)
        if answer.status_code == 409 and "concurrency-conflict" in answer.text:
            tally.conflicts += 1
            continue
        if answer.status_code in (200, 201, 202):
            result: dict[str, Any] = answer.json()
            return result
        tally.other_errors[f"{path} {answer.status_code}"] += 1
        return None
    return None


async def _client(
    api: httpx.AsyncClient, skus: list[str], customers: list[str], until: float, tally: Tally
) -> None:
    rng = random.Random()
    card = {"type": "card", "token": "tok_visa"}
    while time.monotonic() < until:
        body = {
            "customer": {"id": rng.choice(customers)},
            "lines": [{"sku": rng.choice(skus), "quantity": 1}],
            "currency": "USD",
        }
        start = time.monotonic()
        order = await _call(api, "/orders", body, tally)
        placed = time.monotonic()
        if order is None:
            tally.failed += 1
            continue
        charge = {"order_id": order["id"], "payment_method": card}
        payment = await _call(api, "/payments/charge", charge, tally)
        done = time.monotonic()
        if payment is None:
            tally.failed += 1
            continue
        tally.paid += 1
        tally.place_ms.append((placed - start) * 1000)
        tally.charge_ms.append((done - placed) * 1000)
        tally.flow_ms.append((done - start) * 1000)


async def run_scenario(port: int, api_key: str, skus: list[str], customers: list[str]) -> Tally:
    tally = Tally()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}/api/v1",
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=60,
        limits=limits,
    ) as api:
        start = time.monotonic()
        until = start + SECONDS
        await asyncio.gather(*(_client(api, skus, customers, until, tally) for _ in range(CLIENTS)))
        tally.seconds = time.monotonic() - start
    return tally


def stock_the_shop(port: int, api_key: str) -> list[str]:
    """The hot SKU and the reference SKUs, with plenty of stock; returns customer ids."""
    auth = {"Authorization": f"Bearer {api_key}"}

    async def stock() -> list[str]:
        limit = asyncio.Semaphore(8)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}/api/v1", headers=auth, timeout=60
        ) as api:

            async def ok(path: str, body: dict[str, Any], put: bool = False) -> Any:
                async with limit:
                    answer = await (api.put if put else api.post)(path, json=body)
                if not answer.is_success:
                    raise RuntimeError(f"{path}: {answer.status_code} {answer.text}")
                return answer.json()

            async def product(name: str) -> None:
                price = {"amount": 1_000, "currency": "USD"}
                await ok(f"/products/{name}", {"name": name, "price": price}, put=True)
                await ok(f"/inventory/{name}/receipts", {"quantity": STOCK})

            await asyncio.gather(*(product(s) for s in [HOT_SKU, *map(sku, range(SKUS))]))
            return [
                str((await ok("/customers", {"email": f"flash{i}@example.com"}))["id"])
                for i in range(CUSTOMERS)
            ]

    return asyncio.run(stock())


def check_hot_stock(port: int, api_key: str, paid: int) -> str:
    """The hot SKU's on-hand once the takes settled: receipt less one unit per paid order."""
    auth = {"Authorization": f"Bearer {api_key}"}
    deadline = time.monotonic() + SETTLE_SECONDS
    levels: dict[str, Any] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=auth) as api:
        while time.monotonic() < deadline:
            levels = api.get(f"/inventory/{HOT_SKU}").json()
            if levels["on_hand"] == STOCK - paid:
                return f"on hand {levels['on_hand']:,} = {STOCK:,} - {paid:,} paid: exact"
            time.sleep(0.5)
    return f"MISMATCH: on hand {levels.get('on_hand')} != {STOCK - paid} ({levels})"


def print_report(results: list[tuple[str, Tally]]) -> None:
    print(f"\n{'scenario':<8} {'paid/s':>8} {'flow p50':>9} {'flow p99':>9}", end="")
    print(f" {'place p99':>10} {'charge p99':>11} {'409s':>6} {'failed':>7}", end="")
    print(f" {'paid':>7}  other errors")
    for name, t in results:
        print(
            f"{name:<8} {t.paid / t.seconds:>8,.1f} {_pct(t.flow_ms, 0.5):>7.1f}ms"
            f" {_pct(t.flow_ms, 0.99):>7.1f}ms {_pct(t.place_ms, 0.99):>8.1f}ms"
            f" {_pct(t.charge_ms, 0.99):>9.1f}ms {t.conflicts:>6} {t.failed:>7} {t.paid:>7,}"
            f"  {dict(t.other_errors) or '-'}"
        )


def print_goals(results: list[tuple[str, Tally]]) -> None:
    def total(name: str) -> Tally:
        merged = Tally()
        for n, t in results:
            if n == name:
                merged.paid += t.paid
                merged.seconds += t.seconds
                merged.conflicts += t.conflicts
                merged.flow_ms += t.flow_ms
        return merged

    hot, spread = total("hot"), total("spread")
    share = (hot.paid / hot.seconds) / (spread.paid / spread.seconds)
    p99 = _pct(hot.flow_ms, 0.99)
    print("\nGoals:")
    for text, met in [
        (f"409s reaching clients (hot): {hot.conflicts} == 0", hot.conflicts == 0),
        (f"hot rate {share:.2f} of spread >= {GOAL_SHARE}", share >= GOAL_SHARE),
        (f"hot flow p99 {p99:.0f} ms <= {GOAL_P99_MS:g}", p99 <= GOAL_P99_MS),
    ]:
        print(f"  {text}: {'met' if met else 'NOT met'}")


def main() -> None:
    print(f"Flash sale: {CLIENTS} clients, {SECONDS:g} s per scenario, {ROUNDS} round(s),", end=" ")
    print(f"{WORKERS} worker(s), {SKUS:,} reference SKUs; load average {os.getloadavg()}")
    results: list[tuple[str, Tally]] = []
    with (
        database() as dsn,
        fresh_schema(dsn) as schema,
        tempfile.TemporaryDirectory(prefix="bench-flash-") as tmp,
    ):
        env = server_env(dsn, schema, Path(tmp))
        api_key = create_tenant(env)
        with running_server(env, WORKERS, Path(tmp) / "server.log") as server:
            port = server.port
            customers = stock_the_shop(port, api_key)
            spread = [sku(i) for i in range(SKUS)]
            for _ in range(ROUNDS):
                for name, skus in (("spread", spread), ("hot", [HOT_SKU])):
                    tally = asyncio.run(run_scenario(port, api_key, skus, customers))
                    results.append((name, tally))
                    print(f"  {name}: {tally.paid / tally.seconds:,.1f} paid orders/s")
            hot_paid = sum(t.paid for n, t in results if n == "hot")
            stock_check = check_hot_stock(port, api_key, hot_paid)
    print_report(results)
    print_goals(results)
    print(f"\nHot SKU's stock after the run: {stock_check}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
