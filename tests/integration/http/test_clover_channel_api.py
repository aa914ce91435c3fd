"""A Clover connection over HTTP on PostgreSQL, Clover through its docs-checked stand-in
(ADR 0042): its orders pulled into our stock, the webhook verification handshake shown to
the operator, and deliveries accepted only with the app's auth code."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.http.conftest import Api, MakeApi
from tests.integration.http.test_channels_api import PROBLEM, Shop, shop
from tests.integration.pos.clover_world import CloverWorld
from tests.integration.tracking_story import settled

WEBHOOK = "/api/v1/webhooks/clover"


@pytest.fixture
async def clover_server() -> AsyncIterator[tuple[CloverWorld, Server]]:
    world = CloverWorld()
    with serve(world) as server:  # type: ignore[arg-type]
        yield world, server
        assert server.violations == [], "\n".join(server.violations)


def connection(world: CloverWorld, **more: Any) -> dict[str, Any]:
    return {
        "access_token": world.access_token,
        "merchant_id": world.merchant_id,
        "location_map": {world.merchant_id: "main"},
        "item_map": {"ITEMTEE": "TEE", "ITEMMUG": "MUG"},
        **more,
    }


async def connected(api: Api, world: CloverWorld, slug: str = "acme", **more: Any) -> Shop:
    made = await shop(api, slug)
    await made.stock("TEE", 5)
    put = await made.call("PUT", "/admin/channels/clover", connection(world, **more))
    assert put.status_code == 200, put.text
    assert world.access_token not in put.text
    return made


async def test_clover_sales_are_pulled_once_and_take_our_stock(
    make_api: MakeApi, clover_server: tuple[CloverWorld, Server]
) -> None:
    world, server = clover_server
    api = await make_api(clover_api_base=server.url, background_work=frozenset())
    acme = await connected(api, world)
    till = world.till()
    first = till.ring_up([("TEE", 2, 1500)])
    second = till.ring_up([("TEE", 1, 1500)])

    pulled = await acme.call("POST", "/admin/channels/clover/sync")
    again = await acme.call("POST", "/admin/channels/clover/sync")

    assert pulled.status_code == 200, pulled.text
    assert (pulled.json()["imported"], again.json()["imported"]) == (2, 0)
    order = (await acme.order_of("clover", first)).json()
    assert order["status"] == "paid"
    assert order["channel"] == "pos"
    assert (await acme.order_of("clover", second)).status_code == 200
    assert await acme.on_hand("TEE") == 2
    [listed] = (await acme.call("GET", "/admin/channels")).json()["items"]
    assert (listed["pos"], listed["state"], listed["failures"]) == ("clover", "active", 0)


async def test_the_verification_code_is_shown_to_connections_awaiting_it_and_then_deliveries_need_the_auth_code(  # noqa: E501
    make_api: MakeApi, clover_server: tuple[CloverWorld, Server]
) -> None:
    world, server = clover_server
    api = await make_api(clover_api_base=server.url, background_work=frozenset())
    acme = await connected(api, world)
    verified = await shop(api, "verified")  # already has its auth code: not shown a new one
    assert (
        await verified.call(
            "PUT", "/admin/channels/clover", connection(world, signature_key="other-code")
        )
    ).status_code == 200

    handshake = await api.client.post(WEBHOOK, json={"verificationCode": "ce7643c1-83ea"})

    assert handshake.status_code == 200, handshake.text
    assert (await acme.channels())["clover"]["verification_code"] == "ce7643c1-83ea"
    assert (await verified.channels())["clover"]["verification_code"] is None
    # The operator pastes the code into Clover, then stores the auth code Clover shows.
    stored = await acme.call(
        "PUT", "/admin/channels/clover", connection(world, signature_key=world.auth_code)
    )
    assert stored.status_code == 200
    assert world.auth_code not in stored.text
    sale = world.till().ring_up([("TEE", 1, 1500)])
    body, headers = world.till().signed_delivery("ignored", sale)

    first = await api.client.post(WEBHOOK, content=body, headers=headers)
    replay = await api.client.post(WEBHOOK, content=body, headers=headers)

    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    assert (replay.status_code, replay.json()) == (200, {"received": True, "duplicate": True})
    await settled(api)
    assert (await acme.order_of("clover", sale)).json()["status"] == "paid"
    assert (await verified.order_of("clover", sale)).status_code == 404
    [event] = await api.app.state.webhooks.inbox.find()
    assert event.tenant_id == str(acme.tenant_id)


@pytest.mark.parametrize("tamper", ["no code", "wrong code", "other merchant", "not json"])
async def test_a_delivery_without_the_auth_code_is_refused_and_stores_nothing(
    make_api: MakeApi, clover_server: tuple[CloverWorld, Server], tamper: str
) -> None:
    world, server = clover_server
    api = await make_api(clover_api_base=server.url, background_work=frozenset())
    await connected(api, world, signature_key=world.auth_code)
    sale = world.till().ring_up([("TEE", 1, 1500)])
    body, headers = world.till().signed_delivery("ignored", sale)
    if tamper == "no code":
        headers = {}
    elif tamper == "wrong code":
        headers = {"X-Clover-Auth": world.auth_code[:-1] + "0"}
    elif tamper == "other merchant":
        body = body.replace(world.merchant_id.encode(), b"SOMEONEELSE1")
    else:
        body = b"not json"

    answer = await api.client.post(WEBHOOK, content=body, headers=headers)

    assert answer.status_code == 400, answer.text
    expected = "bad-request" if tamper == "not json" else "invalid-signature"
    assert answer.json()["type"] == PROBLEM + expected
    assert await api.app.state.webhooks.inbox.find() == []


@pytest.mark.parametrize(
    "body",
    [
        {"verificationCode": "x" * 65},
        {"verificationCode": "<script>"},
        {"verificationCode": 5},
    ],
)
async def test_a_malformed_verification_code_is_not_shown(
    make_api: MakeApi, clover_server: tuple[CloverWorld, Server], body: Any
) -> None:
    world, server = clover_server
    api = await make_api(clover_api_base=server.url, background_work=frozenset())
    acme = await connected(api, world)

    answer = await api.client.post(WEBHOOK, content=json.dumps(body).encode())

    assert answer.status_code == 400
    assert (await acme.channels())["clover"]["verification_code"] is None


async def test_a_clover_connection_needs_its_merchant_id(api: Api) -> None:
    acme = await shop(api, "acme")

    answer = await acme.call(
        "PUT", "/admin/channels/clover", {"access_token": "t", "location_map": {"M1": "main"}}
    )

    assert answer.status_code == 422
    assert "merchant_id" in answer.json()["detail"]


async def oauth_connected(
    make_api: MakeApi, world: CloverWorld, server: Server
) -> tuple[Api, Shop, Any]:
    api = await make_api(
        clover_api_base=server.url,
        clover_oauth_client_id="APP1",
        clover_oauth_client_secret=world.client_secret,
        background_work=frozenset(),
    )
    acme = await shop(api, "acme")
    await acme.stock("TEE", 5)
    bare = {k: v for k, v in connection(world).items() if k != "access_token"}
    assert (await acme.call("PUT", "/admin/channels/clover", bare)).status_code == 200
    started = await acme.call("POST", "/admin/channels/clover/oauth")
    assert started.status_code == 200, started.text
    state = started.json()["state"]
    assert started.json()["authorize_url"].startswith("https://www.clover.com/oauth/v2/authorize?")

    done = await api.client.get(
        "/api/v1/channels/clover/oauth/callback",
        params={"code": world.code, "state": state},
        headers=acme.auth,
    )
    return api, acme, done


async def test_a_clover_account_connected_by_oauth_is_pulled_with_its_refreshed_token(
    make_api: MakeApi, clover_server: tuple[CloverWorld, Server]
) -> None:
    world, server = clover_server
    _, acme, done = await oauth_connected(make_api, world, server)
    given = world.access_token
    sale = world.till().ring_up([("TEE", 1, 1500)])

    pulled = await acme.call("POST", "/admin/channels/clover/sync")

    assert done.status_code == 200, done.text
    assert given not in done.text
    # The stand-in's tokens expired at its T0 (long past): the pull refreshed first, and the
    # stand-in accepts only the newest token.
    assert [r.path for r in server.received].count("/oauth/v2/refresh") == 1
    assert world.access_token != given
    assert pulled.status_code == 200, pulled.text
    assert (await acme.order_of("clover", sale)).json()["status"] == "paid"


async def test_a_refused_refresh_leaves_the_pull_to_the_old_token(
    make_api: MakeApi, clover_server: tuple[CloverWorld, Server]
) -> None:
    world, server = clover_server
    _, acme, done = await oauth_connected(make_api, world, server)
    assert done.status_code == 200
    world.refresh_token = "revoked-elsewhere"  # our refresh token no longer works
    sale = world.till().ring_up([("TEE", 1, 1500)])

    pulled = await acme.call("POST", "/admin/channels/clover/sync")

    assert pulled.status_code == 200, pulled.text  # the old access token still works
    assert (await acme.order_of("clover", sale)).status_code == 200
    world.access_token = "rotated"  # and once it does not, the pull fails as refused
    failed = await acme.call("POST", "/admin/channels/clover/sync")
    assert (failed.status_code, failed.json()["type"]) == (422, PROBLEM + "pos-refused")
