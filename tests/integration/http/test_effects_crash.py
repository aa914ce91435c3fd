"""A process killed (SIGKILL) at each step of a charge on PostgreSQL, and recovery in
another process converging: the test gateway charged once, the payment recorded it once,
the order is paid by exactly that money, no intent is left open (ADR 0016)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers

from adapters.memory.clock import FixedClock
from commerce_core.effects.recovery import GRACE
from entrypoints.container import build_container, open_pool
from entrypoints.jobs import JobDeps, run_job
from entrypoints.settings import Settings
from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import Shop

WAIT = 20.0


@pytest.mark.parametrize("step", ["before-call", "after-call", "at-outcome", "at-take"])
async def test_a_charge_killed_at_any_step_is_finished_once_by_recovery(
    api: Api, pg_schema: PgSchema, step: str
) -> None:
    tenant, key = await api.tenant("shop")
    shop = Shop(api, key)
    await shop.stock_product("MUG-1", 1000, 10)
    order = (await shop.order(("MUG-1", 2))).json()

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.crash_child",
        pg_schema.name,
        str(tenant.id),
        order["id"],
        step,
        stderr=subprocess.PIPE,
    )
    _, errors = await asyncio.wait_for(child.communicate(), WAIT)
    assert child.returncode == -signal.SIGKILL, errors.decode()

    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=TEST_DATABASE_URL,
        database_schema=pg_schema.name,
        event_store="postgres",
    )
    container = build_container(settings)  # the worker that recovers: another process's view
    container.clock.override(
        providers.Object(FixedClock(datetime.now(UTC) + GRACE + timedelta(seconds=1)))
    )
    async with open_pool(settings) as opened:
        assert opened is not None
        pool = opened
        container.pool.override(providers.Object(pool))
        last = (await container.event_store().read_stream(order_id_of(order)))[-1]
        async with asyncio.timeout(WAIT):  # the app's projections index the open intent
            await api.app.state.projections.wait_for("open_effects", last.position)
        recovered = await run_job("recover-effects", JobDeps.from_container(container))
        async with pool.acquire() as conn:
            charged = await conn.fetchval("SELECT count(*) FROM test_gateway_payments")

    assert (recovered.examined, recovered.changed, recovered.errors) == (1, 1, [])
    assert charged == 1
    [payment] = (await shop.call("GET", f"/orders/{order['id']}/payments")).json()
    after = (await shop.call("GET", f"/orders/{order['id']}")).json()
    assert (payment["status"], payment["captured"]) == ("captured", after["totals"]["total"])
    assert (after["status"], after["totals"]["paid"]) == ("paid", after["totals"]["total"])
    stock = (await shop.call("GET", "/inventory/MUG-1")).json()
    assert (stock["on_hand"], stock["reserved"]) == (8, 0)  # the 2 units taken once


def order_id_of(order: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(order["id"])
