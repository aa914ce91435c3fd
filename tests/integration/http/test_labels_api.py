"""Carrier connections, labels bought exactly once, voids and packing slips over HTTP on
PostgreSQL (ADR 0030). The fake carrier serves demo mode; ShipEngine runs end to end on
its spec-checked local server (tests/integration/carriers)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader

from adapters.memory.carrier import FakeCarrier
from adapters.memory.clock import FixedClock
from commerce_core.effects.recovery import GRACE
from commerce_core.fulfilment.ports import CarrierUnavailableError, TrackingStatus
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.jobs import JobDeps, run_job
from tests.integration.carriers.vendor_server import serve
from tests.integration.carriers.worlds import ShipEngineWorld
from tests.integration.http.conftest import Api, MakeApi
from tests.integration.http.test_orders_api import Shop

PROBLEM = "https://commerce-core.dev/problems/"
HOME = {
    "name": "Ada Lovelace",
    "line1": "1 Main St",
    "city": "Springfield",
    "region": "IL",
    "postal_code": "62704",
    "country": "US",
}
WAREHOUSE = {
    "name": "Mugs Inc",
    "line1": "9 Dock Rd",
    "city": "Austin",
    "region": "TX",
    "postal_code": "78701",
    "country": "US",
}
UPS_SECRET = "ups-secret-do-not-show-9f8e7d"
SHIPENGINE_KEY = "TEST_key"


async def paid_shipment(shop: Shop, *lines: tuple[str, int]) -> dict[str, Any]:
    """A paid order of ``lines`` (MUG-1 x2 by default) and a shipment of all of it."""
    lines = lines or (("MUG-1", 2),)
    for sku, _ in lines:
        await shop.stock_product(sku, 1000, 10)
    placed = await shop.order(*lines, shipping_address=HOME)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    charged = await shop.call(
        "POST",
        "/payments/charge",
        {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}},
    )
    assert charged.status_code == 201, charged.text
    shipped = await shop.call("POST", f"/orders/{order['id']}/shipments", {"carrier": "fake"})
    assert shipped.status_code == 201, shipped.text
    return {"order": order, "shipment": shipped.json()}


def fake_carrier(api: Api) -> FakeCarrier:
    carrier: FakeCarrier = api.container.carrier()
    return carrier


def labels_of(api: Api, shipment_id: str) -> list[str]:
    return [label.tracking_number for ref, label in fake_carrier(api).labels if ref == shipment_id]


async def test_a_label_is_bought_once_under_concurrent_requests_without_keys(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]

    answers = await asyncio.gather(
        *(shop.call("POST", f"/shipments/{sid}/label", {"service": "express"}) for _ in range(8))
    )

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409}, [a.text for a in answers]
    assert 201 in statuses
    for refused in (a for a in answers if a.status_code == 409):
        assert refused.json()["type"] == PROBLEM + "label-in-progress"
    [tracking] = labels_of(api, sid)  # the carrier sold one label
    shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
    assert shipment["tracking_number"] == tracking
    assert (shipment["carrier"], shipment["service"]) == ("fake", "express")
    assert shipment["label_status"] == "bought"
    assert shipment["label_url"] == f"/api/v1/shipments/{sid}/label"
    assert shipment["cost"] == {"amount": 1500 + 250, "currency": "USD"}  # express, 1 kg
    assert shipment["rate"] == shipment["cost"]
    again = await shop.call("POST", f"/shipments/{sid}/label", {})
    assert (again.status_code, again.json()["tracking_number"]) == (201, tracking)
    assert labels_of(api, sid) == [tracking]

    printed = await shop.call("GET", f"/shipments/{sid}/label")
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF")
    assert tracking in PdfReader(io.BytesIO(printed.content)).pages[0].extract_text()


async def test_the_order_shows_the_label_cost_next_to_what_the_customer_paid(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    made = await paid_shipment(shop)
    sid = made["shipment"]["id"]
    assert (await shop.call("POST", f"/shipments/{sid}/label", {})).status_code == 201

    order = (await shop.call("GET", f"/orders/{made['order']['id']}")).json()

    [shipment] = order["shipments"]
    assert shipment["cost"] == {"amount": 500 + 100, "currency": "USD"}  # standard, cheapest
    assert shipment["shipping_paid"] == {"amount": order["totals"]["shipping"], "currency": "USD"}
    assert shipment["label_url"] == f"/api/v1/shipments/{sid}/label"


async def test_a_carrier_refusal_is_a_4xx_with_its_message_and_nothing_bought(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]

    refused = await shop.call("POST", f"/shipments/{sid}/label", {"service": "teleport"})

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == PROBLEM + "unsupported-service"
    assert "teleport" in refused.json()["detail"]
    shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
    assert (shipment["label_status"], shipment["tracking_number"]) == ("none", None)
    assert labels_of(api, sid) == []
    bought = await shop.call("POST", f"/shipments/{sid}/label", {"service": "standard"})
    assert bought.status_code == 201, bought.text


async def test_an_unavailable_carrier_answers_503_and_recovery_buys_the_label_once(
    api: Api,
) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]
    fake_carrier(api).fail_next(CarrierUnavailableError("fake is down"))
    rating = await shop.call("POST", f"/shipments/{sid}/label", {})  # rates: before deciding
    assert (rating.status_code, rating.json()["type"]) == (503, PROBLEM + "carrier-unavailable")
    assert (await shop.call("GET", f"/shipments/{sid}")).json()["label_status"] == "none"
    fake_carrier(api).fail_next(CarrierUnavailableError("fake is down"))

    down = await shop.call("POST", f"/shipments/{sid}/label", {"service": "standard"})

    assert down.status_code == 503, down.text
    assert down.json()["type"] == PROBLEM + "carrier-unavailable"
    shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
    assert (shipment["label_status"], shipment["tracking_number"]) == ("pending", None)
    busy = await shop.call("POST", f"/shipments/{sid}/label", {})
    assert (busy.status_code, busy.json()["type"]) == (409, PROBLEM + "label-in-progress")
    assert labels_of(api, sid) == []

    await recover(api)

    [tracking] = labels_of(api, sid)
    shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
    assert (shipment["label_status"], shipment["tracking_number"]) == ("bought", tracking)


async def recover(api: Api) -> None:
    """One round of ``recover-effects`` after the grace, once the intent is indexed."""
    container = api.container
    head = await container.event_store().head()
    async with asyncio.timeout(20):
        await api.app.state.projections.wait_for("open_effects", head)
    later = FixedClock(datetime.now(UTC) + GRACE + timedelta(seconds=1))
    deps = JobDeps.from_container(container)
    outcome = await run_job("recover-effects", _with_clock(deps, later))
    assert outcome.errors == [], outcome


def _with_clock(deps: JobDeps, clock: FixedClock) -> JobDeps:
    return dataclasses.replace(deps, clock=clock)


async def test_a_label_is_voided_then_another_bought_and_a_used_one_cannot_be(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]
    first = (await shop.call("POST", f"/shipments/{sid}/label", {})).json()["tracking_number"]

    voided = await shop.call("POST", f"/shipments/{sid}/label/void")

    assert voided.status_code == 200, voided.text
    assert voided.json()["label_status"] == "none"
    assert voided.json()["voided_tracking_numbers"] == [first]
    assert first in fake_carrier(api).voided
    gone = await shop.call("GET", f"/shipments/{sid}/label")
    assert (gone.status_code, gone.json()["type"]) == (404, PROBLEM + "no-label")
    second = (await shop.call("POST", f"/shipments/{sid}/label", {})).json()["tracking_number"]
    assert second != first
    assert labels_of(api, sid) == [first, second]

    moving = await shop.call("POST", f"/shipments/{sid}/events", {"status": "in_transit"})
    assert moving.status_code == 201, moving.text
    refused = await shop.call("POST", f"/shipments/{sid}/label/void")
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == PROBLEM + "label-not-voidable"
    assert (await shop.call("GET", f"/shipments/{sid}")).json()["tracking_number"] == second


async def test_the_carrier_refusing_a_void_is_a_409_with_its_message(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]
    tracking = (await shop.call("POST", f"/shipments/{sid}/label", {})).json()["tracking_number"]
    fake_carrier(api).advance(tracking, TrackingStatus.IN_TRANSIT, datetime.now(UTC))

    refused = await shop.call("POST", f"/shipments/{sid}/label/void")

    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == PROBLEM + "label-not-voidable"
    assert "in transit" in refused.json()["detail"]
    no_label = await shop.call("POST", f"/shipments/{sid}/label/void")
    assert no_label.status_code == 409  # still the label: nothing was recorded


async def test_packing_slip_pdf_reads_back_with_order_lines_and_address(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    made = await paid_shipment(shop, ("MUG-1", 2), ("TEA-7", 3))
    sid = made["shipment"]["id"]

    slip = await shop.call("GET", f"/shipments/{sid}/packing-slip")

    assert slip.status_code == 200, slip.text
    assert slip.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(slip.content)).pages[0].extract_text()
    assert made["order"]["number"] in text
    assert "MUG-1 Mug-1 2" in text
    assert "TEA-7 Tea-7 3" in text
    assert "Ada Lovelace" in text
    assert "1 Main St" in text
    assert "62704 Springfield" in text


async def test_a_packing_slip_of_an_erased_customer_says_so(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    made = await paid_shipment(shop)
    sid = made["shipment"]["id"]
    assert (await shop.call("POST", f"/shipments/{sid}/label", {})).status_code == 201
    customer_id = made["order"]["customer_id"]

    erased = await shop.call("DELETE", f"/customers/{customer_id}")
    assert erased.status_code == 204, erased.text

    slip = await shop.call("GET", f"/shipments/{sid}/packing-slip")
    text = PdfReader(io.BytesIO(slip.content)).pages[0].extract_text()
    assert "erased" in text
    assert "Ada Lovelace" not in text
    label = await shop.call("GET", f"/shipments/{sid}/label")
    assert (label.status_code, label.json()["type"]) == (410, PROBLEM + "label-erased")


async def test_another_tenants_shipment_is_not_found_for_labels_and_slips(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]
    assert (await shop.call("POST", f"/shipments/{sid}/label", {})).status_code == 201
    _, other_key = await api.tenant("other")
    other = Shop(api, other_key)

    for method, path in [
        ("POST", f"/shipments/{sid}/label"),
        ("GET", f"/shipments/{sid}/label"),
        ("POST", f"/shipments/{sid}/label/void"),
        ("GET", f"/shipments/{sid}/packing-slip"),
    ]:
        answer = await other.call(method, path, {} if method == "POST" else None)
        assert answer.status_code == 404, (path, answer.text)
    assert len(labels_of(api, sid)) == 1
    assert (await shop.call("GET", f"/shipments/{sid}")).json()["label_status"] == "bought"


async def test_service_keys_may_not_print_labels_or_slips(api: Api) -> None:
    tenant, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]
    machine = Shop(api, await api.key(tenant, Role.SERVICE))

    for method, path in [
        ("POST", f"/shipments/{sid}/label"),
        ("GET", f"/shipments/{sid}/packing-slip"),
    ]:
        answer = await machine.call(method, path, {} if method == "POST" else None)
        assert answer.status_code == 403, answer.text


async def test_malformed_label_requests_are_422(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]

    for body in (
        {"service": "x" * 65},
        {"parcel": {"weight_grams": 0}},
        {"parcel": {"weight_grams": 10, "colour": "red"}},
        {"ship_from": {"name": "x"}},
        {"carrier": "pigeon"},
        {"rate_id": "se-nothing"},
    ):
        answer = await shop.call("POST", f"/shipments/{sid}/label", body)
        assert answer.status_code == 422, (body, answer.text)
    assert labels_of(api, sid) == []


# Connections


async def test_a_connection_keeps_its_secrets_out_of_every_answer_and_log(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant, key = await api.tenant("shop")
    admin = Shop(api, key)
    body = {
        "client_id": "ups-client-id-hidden",
        "client_secret": UPS_SECRET,
        "account_number": "A1B2C3",
        "environment": "sandbox",
        "ship_from": WAREHOUSE,
    }

    put = await admin.call("PUT", "/admin/carriers/ups", body)

    assert put.status_code == 200, put.text
    shown = put.json()
    assert (shown["carrier"], shown["enabled"], shown["account_number"]) == ("ups", True, "A1B2C3")
    assert (shown["environment"], shown["ship_from"]["city"]) == ("sandbox", "Austin")
    answers = [
        put,
        await admin.call("GET", "/admin/carriers/ups"),
        await admin.call("GET", "/admin/carriers"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert UPS_SECRET not in answer.text
        assert "ups-client-id-hidden" not in answer.text
    assert [c["carrier"] for c in answers[2].json()] == ["ups"]
    pool = api.container.pool()
    assert pool is not None
    async with pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT sealed_secrets FROM carrier_connections WHERE tenant_id = $1", tenant.id
        )
    assert UPS_SECRET.encode() not in stored
    logged = capsys.readouterr()
    assert UPS_SECRET not in logged.out + logged.err


async def test_connections_are_admin_only_and_per_tenant(api: Api) -> None:
    tenant, key = await api.tenant("shop")
    admin = Shop(api, key)
    body = {"api_key": SHIPENGINE_KEY, "carrier_ids": ["se-1"], "phone": "+1 555 0100"}
    body["ship_from"] = WAREHOUSE  # type: ignore[assignment]
    staff = Shop(api, await api.key(tenant, Role.STAFF))
    assert (await staff.call("PUT", "/admin/carriers/shipengine", body)).status_code == 403
    assert (await staff.call("GET", "/admin/carriers")).status_code == 403
    assert (await admin.call("PUT", "/admin/carriers/shipengine", body)).status_code == 200
    _, other_key = await api.tenant("other")
    other = Shop(api, other_key)

    assert (await other.call("GET", "/admin/carriers")).json() == []
    missing = await other.call("GET", "/admin/carriers/shipengine")
    assert (missing.status_code, missing.json()["type"]) == (404, PROBLEM + "not-found")


async def test_malformed_connections_are_422(api: Api) -> None:
    _, key = await api.tenant("shop")
    admin = Shop(api, key)

    for carrier, body in [
        ("shipengine", {"carrier_ids": ["se-1"], "phone": "+1 555", "ship_from": WAREHOUSE}),
        ("ups", {"client_id": "a", "client_secret": "b", "ship_from": WAREHOUSE}),
        ("ups", {"client_id": "a", "client_secret": "b", "account_number": "!!", "x": 1}),
        ("ups", {"environment": "moon"}),
        ("pigeon", {}),
        ("fake", {"default_weight_grams": 0}),
    ]:
        answer = await admin.call("PUT", f"/admin/carriers/{carrier}", body)
        assert answer.status_code == 422, (carrier, body, answer.text)
    assert (await admin.call("GET", "/admin/carriers")).json() == []


async def test_without_the_fake_fallback_an_unconnected_carrier_is_refused(
    make_api: MakeApi,
) -> None:
    api = await make_api(carrier_fallback="none")
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    sid = (await paid_shipment(shop))["shipment"]["id"]

    refused = await shop.call("POST", f"/shipments/{sid}/label", {})

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == PROBLEM + "carrier-not-connected"
    connected = await shop.call("PUT", "/admin/carriers/fake", {"ship_from": WAREHOUSE})
    assert connected.status_code == 200, connected.text
    assert (await shop.call("POST", f"/shipments/{sid}/label", {})).status_code == 201


# ShipEngine end to end


async def test_a_label_is_bought_through_shipengine_on_its_spec_checked_server(
    make_api: MakeApi,
) -> None:
    world = ShipEngineWorld(api_key=SHIPENGINE_KEY)
    with serve(world) as server:
        world.base_url = server.url
        api = await make_api(shipengine_api_base=server.url)
        _, key = await api.tenant("shop")
        shop = Shop(api, key)
        connection = {
            "api_key": SHIPENGINE_KEY,
            "carrier_ids": ["se-161650"],
            "phone": "+1 555 0100",
            "ship_from": WAREHOUSE,
        }
        assert (await shop.call("PUT", "/admin/carriers/shipengine", connection)).is_success
        sid = (await paid_shipment(shop))["shipment"]["id"]
        _, other_key = await api.tenant("other")  # no connection: demo mode, the fake
        other = Shop(api, other_key)
        other_sid = (await paid_shipment(other))["shipment"]["id"]

        bought = await shop.call(
            "POST",
            f"/shipments/{sid}/label",
            {"carrier": "shipengine", "service": "usps_priority_mail"},
        )
        assert bought.status_code == 201, bought.text
        assert (await other.call("POST", f"/shipments/{other_sid}/label", {})).is_success
        printed = await shop.call("GET", f"/shipments/{sid}/label")

    assert server.violations == [], server.violations
    [label] = world.labels.values()  # one label sold, to the connected tenant only
    shipment = bought.json()
    assert shipment["tracking_number"] == label["tracking_number"]
    assert (shipment["carrier"], shipment["service"]) == ("shipengine", "usps_priority_mail")
    assert shipment["cost"]["amount"] > 0
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF")
    assert labels_of(api, other_sid) != []  # the other tenant's label came from the fake
    assert world.by_external_id == {f"{sid}:label": label["label_id"]}
