"""Carriers' tracking webhooks over HTTP on PostgreSQL: the shared secret each carrier
documents, stored once, processed by the inbox worker; hostile requests (ADR 0032)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.carriers.worlds import ShipEngineWorld
from tests.integration.http.conftest import Api, MakeApi
from tests.integration.http.test_labels_api import WAREHOUSE, paid_shipment
from tests.integration.http.test_orders_api import Shop
from tests.integration.tracking_story import (
    post_shipengine,
    post_ups,
    settled,
    shipengine_event,
    ups_event,
)

PROBLEM = "https://commerce-core.dev/problems/"
SECRET = "tenant-webhook-secret-0123456789"
PLATFORM = "platform-ups-credential-0123456789"


@pytest.fixture
def shipengine() -> Iterator[tuple[ShipEngineWorld, Server]]:
    world = ShipEngineWorld()
    with serve(world) as server:
        world.base_url = server.url
        yield world, server


@pytest.fixture
async def api(make_api: MakeApi, shipengine: tuple[ShipEngineWorld, Server]) -> Api:
    return await make_api(ups_webhook_credential=PLATFORM, shipengine_api_base=shipengine[1].url)


async def labelled(api: Api, world: ShipEngineWorld, slug: str = "shop") -> tuple[Any, Shop, str]:
    """A tenant with a ShipEngine connection whose webhook secret is ``SECRET``, and a
    paid order's shipment with a ShipEngine label; returns the shipment's id."""
    tenant, key = await api.tenant(slug)
    shop = Shop(api, key)
    connection = {
        "api_key": world.api_key,
        "carrier_ids": ["se-161650"],
        "phone": "+1 555 0100",
        "ship_from": WAREHOUSE,
        "webhook_secret": SECRET,
    }
    assert (await shop.call("PUT", "/admin/carriers/shipengine", connection)).is_success
    sid = (await paid_shipment(shop))["shipment"]["id"]
    body = {"carrier": "shipengine", "service": "usps_priority_mail"}
    bought = await shop.call("POST", f"/shipments/{sid}/label", body)
    assert bought.status_code == 201, bought.text
    return tenant, shop, sid


def problem_of(answer: httpx.Response, status: int, slug: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["type"] == PROBLEM + slug


@pytest.mark.parametrize("credential", [None, "", "wrong-credential", PLATFORM + "x"])
async def test_a_missing_or_wrong_credential_is_refused_and_nothing_stored(
    api: Api, credential: str | None
) -> None:
    answer = await post_ups(api, ups_event("1Z0000000000000001", "D", "FS", "101010"), credential)

    problem_of(answer, 400, "invalid-signature")
    assert (await api.app.state.webhooks.inbox.counts()).received == 0


async def test_a_tenant_without_a_webhook_secret_is_refused_even_with_the_platforms(
    api: Api,
) -> None:
    tenant, _ = await api.tenant("shop")

    answer = await post_ups(
        api, ups_event("1Z0000000000000001", "D", "FS", "101010"), PLATFORM, tenant.id
    )

    problem_of(answer, 400, "invalid-signature")


async def test_the_shipengine_platform_route_refuses_everything_without_its_secret(
    api: Api,
) -> None:
    answer = await post_shipengine(api, shipengine_event("9400"), "anything")

    problem_of(answer, 400, "invalid-signature")


async def test_an_unknown_carrier_is_not_found(api: Api) -> None:
    answer = await api.client.post("/api/v1/webhooks/carriers/pigeon", content=b"{}")

    problem_of(answer, 404, "not-found")
    assert "/webhooks/carriers/ups" in answer.json()["detail"]


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"trackingNumber": "1Z1"}',
        b'{"trackingNumber": "1Z1", "gmtActivityDate": "2026-12-02", "gmtActivityTime": "101010",'
        b' "activityStatus": {"type": "D"}}',
        b"[" * 5000,
        b'{"trackingNumber": "1Z\\u0000", "gmtActivityDate": "20261202",'
        b' "gmtActivityTime": "101010", "activityStatus": {"type": "D"}}',
    ],
)
async def test_a_malformed_signed_body_is_a_client_error_never_a_5xx(
    api: Api, payload: bytes
) -> None:
    answer = await post_ups(api, payload, PLATFORM)

    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_a_replayed_event_is_stored_once(api: Api) -> None:
    payload = ups_event("1Z0000000000000001", "I", "OR", "101010")

    first = await post_ups(api, payload, PLATFORM)
    again = await post_ups(api, payload, PLATFORM)

    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})


async def test_an_unknown_tracking_number_is_processed_as_ignored(api: Api) -> None:
    answer = await post_ups(api, ups_event("1Z0000000000000009", "D", "FS", "101010"), PLATFORM)
    assert answer.status_code == 200, answer.text

    await settled(api)

    [event] = await api.app.state.webhooks.inbox.find()
    assert (event.status, event.note) == (
        "processed",
        "ignored: no label 1Z0000000000000009 of ours",
    )


async def test_another_tenants_url_cannot_move_the_parcel(
    api: Api, shipengine: tuple[ShipEngineWorld, Server]
) -> None:
    world, _ = shipengine
    _, owner, sid = await labelled(api, world, "owner")
    number = (await owner.call("GET", f"/shipments/{sid}")).json()["tracking_number"]
    intruder, key = await api.tenant("intruder")
    connection = {"ship_from": WAREHOUSE, "webhook_secret": "intruders-own-secret-0123456789"}
    assert (
        await Shop(api, key).call(
            "PUT",
            "/admin/carriers/shipengine",
            {**connection, "api_key": "k", "carrier_ids": ["se-1"], "phone": "+1 555 0100"},
        )
    ).is_success
    payload = shipengine_event(number, ("DE", "2026-12-03T15:10:00Z"))

    answer = await post_shipengine(api, payload, "intruders-own-secret-0123456789", intruder.id)
    await settled(api)

    assert answer.status_code == 200, answer.text
    [event] = await api.app.state.webhooks.inbox.find()
    assert event.note == "ignored: the parcel is another tenant's"
    assert (await owner.call("GET", f"/shipments/{sid}")).json()["status"] == "created"


async def test_a_tenants_secret_does_not_open_another_tenants_url(
    api: Api, shipengine: tuple[ShipEngineWorld, Server]
) -> None:
    world, _ = shipengine
    await labelled(api, world, "owner")
    other, _ = await api.tenant("other")

    answer = await post_shipengine(api, shipengine_event("9400"), SECRET, other.id)

    problem_of(answer, 400, "invalid-signature")


async def test_webhooks_out_of_order_and_twice_deliver_the_shipment_and_order(
    api: Api, shipengine: tuple[ShipEngineWorld, Server]
) -> None:
    world, server = shipengine
    tenant, shop, sid = await labelled(api, world)
    shipment = (await shop.call("GET", f"/shipments/{sid}")).json()
    number = shipment["tracking_number"]
    delivered = shipengine_event(number, ("DE", "2026-12-03T15:10:00Z"))
    moving = shipengine_event(number, ("IT", "2026-12-02T08:00:00Z"))

    answers = [
        await post_shipengine(api, payload, SECRET, tenant.id)
        for payload in (delivered, delivered, moving)
    ]
    await settled(api)

    assert [a.json()["duplicate"] for a in answers] == [False, True, False]
    after = (await shop.call("GET", f"/shipments/{sid}")).json()
    order = (await shop.call("GET", f"/orders/{shipment['order_id']}")).json()
    assert (after["status"], order["status"]) == ("delivered", "delivered")
    # the worker processes events concurrently: both recorded, in either order
    assert sorted(e["status"] for e in after["events"]) == ["delivered", "in_transit"]
    assert server.violations == [], server.violations
