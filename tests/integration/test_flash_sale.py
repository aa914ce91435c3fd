"""A flash sale over real HTTP on PostgreSQL: `commerce serve` with two workers, many
buyers of one SKU placing and paying orders until it sells out (ADR 0046).

No buyer is ever answered 409 ``concurrency-conflict`` (nor a 5xx); the units paid for
never exceed the units received; on hand is what was received less what was paid for,
nothing stays reserved, and each paid order's units left stock exactly once (one
``Committed`` event per paid order, none for any other). The two workers race each other
on the stock item (their requests do not share turns), so the optimistic retries across
processes are exercised too. Then the same sale with the server killed (SIGKILL) and started
again halfway: charges die between the payment and the stock take, and recovery takes each
paid order's units once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from dependency_injector import providers

from adapters.postgres.connection import server_settings
from commerce_core.inventory.stock import DEFAULT_LOCATION, StockItem
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.effects import recover_payment
from commerce_core.payments.services import order_payments
from commerce_core.shared.context import CommandContext
from entrypoints.container import build_container, open_pool
from entrypoints.settings import Settings
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


@dataclass
class Server:
    """``commerce serve --workers 2`` on a schema, with a tenant; ``kill`` and ``start``
    it again on the same port and schema, as a supervisor would."""

    env: dict[str, str]
    port: int
    log: Path
    api_key: str = ""
    tenant_id: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> None:
        args = [COMMERCE, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*args, "--workers", "2"], env=self.env, stdout=out, stderr=out
            )
        wait_for_health(f"http://127.0.0.1:{self.port}", self.process)

    def kill(self) -> None:
        """SIGKILL to the workers and the server: requests die wherever they are."""
        assert self.process is not None
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True, text=True
        )
        for pid in [*map(int, children.stdout.split()), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(schema: PgSchema, tmp_path: Path) -> Iterator[Server]:
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
    tenant = json.loads(created.stdout)
    server = Server(env, free_port(), tmp_path / "serve.log")
    server.api_key, server.tenant_id = str(tenant["api_key"]), str(tenant["tenant_id"])
    try:
        server.start()
        yield server
    finally:
        server.stop()


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
    server: Server, schema: PgSchema
) -> None:
    url, api_key = server.url, server.api_key

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


async def _orders_placed(schema: str) -> dict[uuid.UUID, int]:
    """Every order placed for the SKU (also those whose answer never reached a buyer)."""
    conn = await asyncpg.connect(TEST_DATABASE_URL, server_settings=server_settings(schema))
    try:
        rows = await conn.fetch(
            "SELECT stream_id, data FROM events WHERE type LIKE '%Order.Placed'"
        )
    finally:
        await conn.close()
    return {
        row["stream_id"]: sum(line["quantity"] for line in json.loads(row["data"])["lines"])
        for row in rows
    }


async def _recover(schema: str, tenant_id: str, orders: list[uuid.UUID]) -> tuple[list[Order], int]:
    """What the recovery worker does for each payment left with an open intent, from
    another process's point of view; returns the orders as they then stand, and how many
    charges it found paid with their stock not yet taken (killed between the two)."""
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=TEST_DATABASE_URL,
        database_schema=schema,
        event_store="postgres",
        payment_gateway="fake",
    )
    container = build_container(settings)
    async with open_pool(settings) as pool:
        container.pool.override(providers.Object(pool))
        repo = container.repository()
        services = PaymentServices(
            repo=repo,
            gateway=container.payment_gateway(),
            clock=container.clock(),
            ids=container.ids(),
        )
        ctx = CommandContext(tenant_id=tenant_id, actor="system:recovery")
        between = 0
        for order_id in orders:
            for payment in await order_payments(repo, tenant_id, order_id):
                if payment.open_effects:
                    between += any(e.answer == "captured" for e in payment.open_effects)
                    await recover_payment(services, ctx, payment.id)
        return [await load_order(repo, tenant_id, order_id) for order_id in orders], between


@contextlib.asynccontextmanager
async def stock_item_held(schema: str, tenant_id: str) -> AsyncIterator[asyncpg.Connection]:
    """Makes every writer of the SKU's stock item wait: an uncommitted event at its next
    version holds the unique (stream, version) index, so placements and stock takes block
    on it while charges still reach their gateway answer. Rolled back at the end."""
    stream = StockItem.id_for(tenant_id, SKU, DEFAULT_LOCATION)
    conn = await asyncpg.connect(TEST_DATABASE_URL, server_settings=server_settings(schema))
    hold = conn.transaction()
    await hold.start()
    try:
        while True:
            version = await conn.fetchval(
                "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream
            )
            try:
                async with conn.transaction():  # a savepoint: a lost race keeps the hold open
                    await conn.execute(
                        "INSERT INTO events (stream_id, version, event_id, type, data,"
                        " tenant_id, recorded_at) VALUES ($1, $2, $3, 'Test.Hold', '{}', $4,"
                        " now())",
                        stream,
                        version + 1,
                        uuid.uuid4(),
                        tenant_id,
                    )
                break
            except asyncpg.UniqueViolationError:
                continue  # another writer took that version first: hold the next one
        yield conn
    finally:
        await hold.rollback()
        await conn.close()


async def answered_not_closed(conn: asyncpg.Connection) -> int:
    """Charges whose gateway answer is recorded and whose intent is not closed (the take
    and the close are one append, after the answer)."""
    rows = await conn.fetch(
        "SELECT type, count(*) AS n FROM events WHERE type LIKE '%Payment.EffectAnswered'"
        " OR type LIKE '%Payment.EffectCompleted' GROUP BY type"
    )
    counts = {row["type"].rsplit(".", 1)[-1]: int(row["n"]) for row in rows}
    return counts.get("EffectAnswered", 0) - counts.get("EffectCompleted", 0)


def test_a_server_killed_mid_sale_leaves_nothing_oversold_and_recovery_takes_once(
    server: Server, schema: PgSchema
) -> None:
    """The server is killed (SIGKILL, workers included) while buyers place and pay, then
    started again: requests die at any step, some between a charge and its stock take.
    Buyers carry on once it is back; recovery then finishes every open intent. Every paid
    order's units left stock exactly once, none of another order's, and on hand is what was
    received less what was paid."""
    headers = {"Authorization": f"Bearer {server.api_key}"}
    answers: Counter[str] = Counter()

    async def buyer_until_sold_out(api: httpx.AsyncClient, seed: int) -> None:
        for _ in range(1000):  # a lost connection only costs the buyer one order
            try:
                await buyer(api, seed, answers)
                return  # refused: sold out
            except httpx.TransportError:
                answers["lost"] += 1
                await asyncio.sleep(0.05)  # the server is down: try again shortly

    async def sale() -> None:
        twenty_answered = asyncio.Event()

        async def count(response: httpx.Response) -> None:
            if answers["201"] >= 20:  # some orders placed and paid first
                twenty_answered.set()

        async with httpx.AsyncClient(
            base_url=server.url, headers=headers, timeout=60, event_hooks={"response": [count]}
        ) as api:
            price = {"amount": 1000, "currency": "USD"}
            await api.put(f"/products/{SKU}", json={"name": "Hot", "price": price})
            await api.post(f"/inventory/{SKU}/receipts", json={"quantity": STOCK})

            async def kill_and_restart() -> None:
                await twenty_answered.wait()
                # the kill lands while charges wait between their answer and their take:
                # not left to the timing of the machine
                async with stock_item_held(schema.name, server.tenant_id) as conn:
                    for _ in range(600):
                        if await answered_not_closed(conn) > 0:
                            break
                        await asyncio.sleep(0.05)  # polling the charges' progress
                    server.kill()
                    # its sessions still waiting on the hold would finish their appends
                    # once it ends (a statement commits without its client): end them too
                    await conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE $1 = ANY(pg_blocking_pids(pid))",
                        conn.get_server_pid(),
                    )
                await asyncio.to_thread(server.start)

            await asyncio.gather(
                kill_and_restart(), *(buyer_until_sold_out(api, n) for n in range(BUYERS))
            )

    asyncio.run(sale())

    assert not [a for a in answers if "concurrency-conflict" in a], answers
    assert answers["lost"] > 0, "requests died with the server"
    placed = asyncio.run(_orders_placed(schema.name))
    orders, between = asyncio.run(_recover(schema.name, server.tenant_id, list(placed)))
    assert between > 0, "some charges died between the payment and the stock take"
    paid = {order.id: placed[order.id] for order in orders if order.status is OrderStatus.PAID}
    committed = asyncio.run(committed_per_order(schema.name))
    assert committed == Counter({str(order_id): 1 for order_id in paid}), "taken once each"
    sold = sum(paid.values())
    assert sold <= STOCK

    async def levels() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as api:
            return dict((await api.get(f"/inventory/{SKU}")).json())

    stock = asyncio.run(levels())
    assert stock["on_hand"] == STOCK - sold, (stock, sold)
    assert 0 <= stock["reserved"] <= stock["on_hand"]
