"""Issue 14's "Done when", over real HTTP on PostgreSQL: zone -> quote -> order paying the
quote -> paid -> (routed) -> label bought once despite a crash -> packing slip read back
-> tracking webhooks twice and out of order -> delivered; an address outside every zone
refused; a free-shipping threshold crossed."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from dependency_injector import providers
from pypdf import PdfReader

from adapters.memory.clock import FixedClock
from commerce_core.effects.recovery import GRACE
from entrypoints.container import build_container, open_pool
from entrypoints.jobs import JobDeps, run_job
from entrypoints.settings import Settings
from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.carriers.vendor_server import serve
from tests.integration.carriers.worlds import ShipEngineWorld
from tests.integration.http.conftest import MakeApi
from tests.integration.http.test_shipping_api import (
    CA_ZONE,
    NYC,
    PARIS,
    SF,
    US_ZONE,
    WAREHOUSE,
    Shop,
    refused,
)
from tests.integration.tracking_story import post_shipengine, settled, shipengine_event

WAIT = 20.0
SECRET = "story-webhook-secret-0123456789"


async def test_an_order_from_zone_and_quote_to_delivery_by_carrier_webhooks(
    make_api: MakeApi, pg_schema: PgSchema
) -> None:
    world = ShipEngineWorld()
    with serve(world) as server:
        world.base_url = server.url
        api = await make_api(shipengine_api_base=server.url)
        tenant, key = await api.tenant("shop")
        shop = Shop(api, key)
        await shop.product("MUG-1", 1200, weight=400)
        await shop.product("SPOON-1", 300, weight=50)
        for code, zone in (("us", US_ZONE), ("california", CA_ZONE)):
            assert (await shop.zone(code, zone)).status_code == 200
        connection = {
            "api_key": world.api_key,
            "carrier_ids": ["se-161650"],
            "phone": "+1 555 0100",
            "ship_from": WAREHOUSE,
            "webhook_secret": SECRET,
        }
        assert (await shop.call("PUT", "/admin/carriers/shipengine", connection)).is_success

        # two warehouses with everything: the order goes to the nearer one, whatever the priority
        for location, address, priority in (("east", NYC, 1), ("oakland", WAREHOUSE, 200)):
            body = {"name": location.title(), "address": address, "ships": True}
            put = await shop.call(
                "PUT", f"/admin/locations/{location}", body | {"priority": priority}
            )
            assert put.status_code == 200, put.text
            for sku in ("MUG-1", "SPOON-1"):
                receipt = {"quantity": 20, "location_id": location}
                assert (await shop.call("POST", f"/inventory/{sku}/receipts", receipt)).is_success

        # an address outside every zone is refused
        refused(await shop.quotes([("MUG-1", 1)], PARIS), "not-deliverable")

        # the free-shipping threshold: 4,800 is under California's 5,000, 5,100 crosses it
        under = await shop.quoted([("MUG-1", 4)], SF)
        lines = [("MUG-1", 3), ("SPOON-1", 5)]
        quotes = await shop.quoted(lines, SF)
        assert under["standard"]["price"]["amount"] == 400
        assert quotes["standard"]["price"] == {"amount": 0, "currency": "USD"}

        # an order paying the quote, then paid
        placed = await shop.order(lines, SF, shipping_quote_id=quotes["standard"]["id"])
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["totals"]["shipping"] == 0
        charged = await shop.call(
            "POST",
            "/payments/charge",
            {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}},
        )
        assert charged.status_code == 201, charged.text

        # routed to the nearest location that has everything, in one shipment
        assert order["fulfilment_plan"] == [
            {
                "location_id": "oakland",
                "lines": [{"sku": "MUG-1", "quantity": 3}, {"sku": "SPOON-1", "quantity": 5}],
            }
        ]

        shipped = await shop.call(
            "POST", f"/orders/{order['id']}/shipments", {"carrier": "shipengine"}
        )
        assert shipped.status_code == 201, shipped.text
        sid = shipped.json()["id"]

        # the label: the buyer is killed after ShipEngine sold it, before it was saved
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.label_crash_child",
            pg_schema.name,
            str(tenant.id),
            sid,
            server.url,
            "after-call",
            stderr=subprocess.PIPE,
        )
        _, errors = await asyncio.wait_for(child.communicate(), WAIT)
        assert child.returncode == -signal.SIGKILL, errors.decode()
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
        assert (recovered.changed, recovered.errors) == (1, [])
        [label] = world.labels.values()  # sold once
        shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
        assert (shipment["label_status"], shipment["tracking_number"]) == (
            "bought",
            label["tracking_number"],
        )
        number = shipment["tracking_number"]

        # the packing slip, read back from the PDF
        slip = await shop.call("GET", f"/shipments/{sid}/packing-slip")
        assert slip.headers["content-type"] == "application/pdf"
        text = PdfReader(io.BytesIO(slip.content)).pages[0].extract_text()
        assert order["number"] in text
        assert "MUG-1" in text
        assert "Grace Hopper" in text

        # tracking webhooks, delivered first, twice, then the late in-transit scan
        delivered = shipengine_event(number, ("DE", "2026-12-03T15:10:00Z"))
        moving = shipengine_event(number, ("IT", "2026-12-02T08:00:00Z"))
        for payload in (delivered, delivered, moving):
            answer = await post_shipengine(api, payload, SECRET, tenant.id)
            assert answer.status_code == 200, answer.text
        await settled(api)

    assert server.violations == [], server.violations
    delivered_shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
    delivered_order = (await shop.call("GET", f"/orders/{order['id']}")).json()
    assert delivered_shipment["status"] == "delivered"
    # the worker processes events concurrently: both recorded, in either order
    assert sorted(e["status"] for e in delivered_shipment["events"]) == ["delivered", "in_transit"]
    assert delivered_order["status"] == "delivered"
