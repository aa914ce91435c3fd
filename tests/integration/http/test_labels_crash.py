"""A process killed (SIGKILL) while buying a label through ShipEngine on PostgreSQL, and
recovery in another process converging: ShipEngine sold one label, the shipment records
it and its document prints (ADR 0016, ADR 0030)."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from dependency_injector import providers

from adapters.memory.clock import FixedClock
from commerce_core.effects.recovery import GRACE
from entrypoints.container import build_container, open_pool
from entrypoints.jobs import JobDeps, run_job
from entrypoints.settings import Settings
from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.carriers.vendor_server import serve
from tests.integration.carriers.worlds import ShipEngineWorld
from tests.integration.http.conftest import MakeApi
from tests.integration.http.test_labels_api import WAREHOUSE, paid_shipment
from tests.integration.http.test_orders_api import Shop

WAIT = 20.0


@pytest.mark.parametrize("step", ["before-call", "after-call"])
async def test_a_label_purchase_killed_at_any_step_is_finished_once_by_recovery(
    make_api: MakeApi, pg_schema: PgSchema, step: str
) -> None:
    world = ShipEngineWorld()
    with serve(world) as server:
        world.base_url = server.url
        api = await make_api(shipengine_api_base=server.url)
        tenant, key = await api.tenant("shop")
        shop = Shop(api, key)
        connection = {
            "api_key": world.api_key,
            "carrier_ids": ["se-161650"],
            "phone": "+1 555 0100",
            "ship_from": WAREHOUSE,
        }
        assert (await shop.call("PUT", "/admin/carriers/shipengine", connection)).is_success
        sid = (await paid_shipment(shop))["shipment"]["id"]

        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.label_crash_child",
            pg_schema.name,
            str(tenant.id),
            sid,
            server.url,
            step,
            stderr=subprocess.PIPE,
        )
        _, errors = await asyncio.wait_for(child.communicate(), WAIT)
        assert child.returncode == -signal.SIGKILL, errors.decode()
        assert len(world.labels) == (1 if step == "after-call" else 0)
        pending = (await shop.call("GET", f"/shipments/{sid}")).json()
        assert (pending["label_status"], pending["tracking_number"]) == ("pending", None)

        settings = dataclasses.replace(
            Settings.from_env(),
            database_url=TEST_DATABASE_URL,
            database_schema=pg_schema.name,
            event_store="postgres",
            shipengine_api_base=server.url,
        )
        container = build_container(settings)  # the worker that recovers
        container.clock.override(
            providers.Object(FixedClock(datetime.now(UTC) + GRACE + timedelta(seconds=1)))
        )
        async with open_pool(settings) as pool:
            container.pool.override(providers.Object(pool))
            head = await container.event_store().head()
            async with asyncio.timeout(WAIT):
                await api.app.state.projections.wait_for("open_effects", head)
            recovered = await run_job("recover-effects", JobDeps.from_container(container))
            await container.carriers().close()
        printed = await shop.call("GET", f"/shipments/{sid}/label")

    assert server.violations == [], server.violations
    assert (recovered.examined, recovered.changed, recovered.errors) == (1, 1, [])
    [label] = world.labels.values()  # sold once, whatever the step
    shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
    assert (shipment["label_status"], shipment["tracking_number"]) == (
        "bought",
        label["tracking_number"],
    )
    assert printed.status_code == 200, printed.text
    assert printed.content.startswith(b"%PDF")
