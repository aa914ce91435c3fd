"""A flash sale over real HTTP on PostgreSQL: `commerce serve` with two workers, many
buyers of one SKU placing and paying orders until it sells out (ADR 0046).

No buyer is ever answered 409 ``concurrency-conflict`` (nor a 5xx); the units paid for
never exceed the units received; on hand is what was received less what was paid for,
nothing stays reserved, and each paid order's units left stock exactly once (one
``Committed`` event per paid order, none for any other). The two workers race each other
on the stock item (their requests do not share turns), so the optimistic retries across
processes are exercised too.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from adapters.postgres.connection import server_settings
from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.test_run import COMMERCE, free_port, wait_for_health

pytestmark = pytest.mark.slow

STOCK = 60
BUYERS = 24
SKU = "HOT-1"


@pytest.fixture
def schema() -> Iterator[PgSchema]:
    created = asyncio.run(PgSchema.create())
    yield created
    asyncio.run(created.drop())


@pytest.fixture
def server(schema: PgSchema, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """``commerce serve --workers 2`` on the schema; yields its URL and an API key."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL,
        "DATABASE_SCHEMA": schema.name,
        "EVENT_STORE": "postgres",
        "DATA_DIR": str(tmp_path),
        "PII_MASTER_KEY": os.urandom(32).hex(),
        "PAYMENT_GATEWAY": "fake",
        "LOG_LEVEL": "warning",
        "DB_POOL_MAX": "8",  # the database is shared: leave its connection slots to others
        "RATE_LIMIT_PER_SECOND": "1000000",
        "RATE_LIMIT_BURST": "1000000",
    }
    created = subprocess.run(
        [COMMERCE, "tenant", "create", f"flash-{uuid.uuid4().hex[:6]}"],
        env=env,
        capture_output=True,
        check=True,
    )
    api_key = str(json.loads(created.stdout)["api_key"])
    log = tmp_path / "serve.log"
    args = [COMMERCE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=out)
    try:
        wait_for_health(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}/api/v1", api_key
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def buyer(api: httpx.AsyncClient, seed: int, answers: Counter[str]) -> dict[str, int]:
    """Places and pays orders of 1-3 units until one is refused for want of stock;
    returns the units of each order it paid for."""
    rng = random.Random(seed)
    paid: dict[str, int] = {}
    card = {"type": "card", "token": "tok_visa"}
    while True:
        quantity = rng.randint(1, 3)
        body = {"customer": {"email": f"buyer{seed}@example.com"}, "currency": "USD"}
        line = {"sku": SKU, "quantity": quantity}
        placed = await api.post("/orders", json={**body, "lines": [line]})
        answers[_answer(placed)] += 1
        if placed.status_code != 201:
            return paid
        order = placed.json()
        charged = await api.post(
            "/payments/charge", json={"order_id": order["id"], "payment_method": card}
        )
        answers[_answer(charged)] += 1
        if charged.status_code == 201:
            paid[order["id"]] = quantity


def _answer(response: httpx.Response) -> str:
    if response.is_success:
        return str(response.status_code)
    problem = response.json()
    kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
    if kind == "insufficient-stock":
        return f"{response.status_code} {kind}"
    return f"{response.status_code} {kind} {response.request.url.path}: {problem.get('detail')}"


async def committed_per_order(schema: str) -> Counter[str]:
    conn = await asyncpg.connect(TEST_DATABASE_URL, server_settings=server_settings(schema))
    try:
        rows = await conn.fetch(
            "SELECT data->>'order_id' AS order_id FROM events"
            " WHERE type LIKE '%StockItem.Committed'"
        )
    finally:
        await conn.close()
    return Counter(str(row["order_id"]) for row in rows)


def test_a_flash_sale_over_two_workers_never_oversells_nor_answers_a_conflict(
    server: tuple[str, str], schema: PgSchema
) -> None:
    url, api_key = server

    async def sale() -> tuple[dict[str, int], Counter[str], dict[str, Any]]:
        answers: Counter[str] = Counter()
        headers = {"Authorization": f"Bearer {api_key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as api:
            price = {"amount": 1000, "currency": "USD"}
            product = await api.put(f"/products/{SKU}", json={"name": "Hot", "price": price})
            assert product.is_success, product.text
            received = await api.post(f"/inventory/{SKU}/receipts", json={"quantity": STOCK})
            assert received.is_success, received.text
            bought = await asyncio.gather(*(buyer(api, n, answers) for n in range(BUYERS)))
            levels = (await api.get(f"/inventory/{SKU}")).json()
        paid = {order: units for each in bought for order, units in each.items()}
        return paid, answers, levels

    paid, answers, levels = asyncio.run(sale())

    assert set(answers) <= {"201", "409 insufficient-stock"}, answers
    sold = sum(paid.values())
    assert sold <= STOCK
    assert (levels["on_hand"], levels["reserved"]) == (STOCK - sold, 0), levels
    assert levels["on_hand"] < 3, "every buyer stopped on a refusal: the SKU sold out"
    committed = asyncio.run(committed_per_order(schema.name))
    assert committed == Counter(dict.fromkeys(paid, 1)), "each paid order taken exactly once"
