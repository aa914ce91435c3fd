"""Connecting a Square account by OAuth over HTTP on PostgreSQL (ADR 0043), Square's token
endpoint played by its spec-validated stand-in: the state is the tenant's, single use and
expiring; a failed callback stores nothing; tokens are never returned and reach the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from commerce_core.channels.oauth import OAuthState, digest
from commerce_core.tenancy.ports.tenants import Role
from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_channels_api import PROBLEM, Shop, shop
from tests.integration.pos.square_world import SquareWorld

CLIENT_ID = "sq0idp-platform-app"


@pytest.fixture
async def square_server() -> AsyncIterator[tuple[SquareWorld, Server]]:
    world = SquareWorld()
    with serve(world) as server:
        yield world, server
        assert server.violations == [], "\n".join(server.violations)


async def started(api: Api, world: SquareWorld, slug: str = "acme") -> Shop:
    made = await shop(api, slug)
    connection = {"signature_key": world.signature_key, "location_map": {world.location_id: "main"}}
    put = await made.call("PUT", "/admin/channels/square", connection)
    assert put.status_code == 200, put.text
    return made


async def oauth_api(make_api: MakeApi, server: Server) -> Api:
    return await make_api(
        square_api_base=server.url,
        square_oauth_client_id=CLIENT_ID,
        square_oauth_client_secret=SquareWorld().client_secret,
        background_work=frozenset(),
    )


async def begin(made: Shop) -> str:
    answer = await made.call("POST", "/admin/channels/square/oauth")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    query = parse_qs(urlsplit(body["authorize_url"]).query)
    assert query["state"] == [body["state"]]
    assert query["client_id"] == [CLIENT_ID]
    return str(body["state"])


async def callback(made: Shop, **query: str) -> Any:
    return await made.api.client.get(
        "/api/v1/channels/square/oauth/callback", params=query, headers=made.auth
    )


async def test_a_granted_code_becomes_a_sealed_token_the_pull_then_uses(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await oauth_api(make_api, server)
    acme = await started(api, world)
    state = await begin(acme)

    done = await callback(acme, code=world.code, state=state)

    assert done.status_code == 200, done.text
    assert done.json()["token_expires_at"] is not None
    assert done.json()["merchant_id"] == "MERCHANT-1"
    assert world.access_token not in done.text
    assert world.refresh_token not in done.text
    listed = (await acme.channels())["square"]
    assert world.access_token not in str(listed)
    # The stand-in accepts only the token it just issued: the pull reaching it proves the
    # token was stored (and the earlier one, never given, is not used).
    pulled = await acme.call("POST", "/admin/channels/square/sync")
    assert pulled.status_code == 200, pulled.text


async def test_a_state_is_used_once_and_a_replay_stores_nothing(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await oauth_api(make_api, server)
    acme = await started(api, world)
    state = await begin(acme)
    assert (await callback(acme, code=world.code, state=state)).status_code == 200
    token = world.access_token

    replay = await callback(acme, code=world.code, state=state)

    assert replay.status_code == 400
    assert replay.json()["type"] == PROBLEM + "invalid-oauth-state"
    assert world.access_token == token  # no second exchange


async def test_two_callbacks_racing_with_one_state_finish_once(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await oauth_api(make_api, server)
    acme = await started(api, world)
    state = await begin(acme)

    answers = await asyncio.gather(
        *(callback(acme, code=world.code, state=state) for _ in range(4))
    )

    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]
    exchanges = [r for r in server.received if r.path == "/oauth2/token"]
    assert len(exchanges) == 1


async def test_another_tenant_s_state_is_refused_and_spent(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await oauth_api(make_api, server)
    acme = await started(api, world)
    intruder = await started(api, world, "intruder")
    state = await begin(acme)

    stolen = await callback(intruder, code=world.code, state=state)
    after = await callback(acme, code=world.code, state=state)

    assert stolen.status_code == 400
    assert "another tenant" in stolen.json()["detail"]
    assert (await intruder.channels())["square"]["token_expires_at"] is None
    assert after.status_code == 400  # a leaked state is gone for everyone
    assert (await acme.channels())["square"]["token_expires_at"] is None
    assert [r for r in server.received if r.path == "/oauth2/token"] == []


async def test_an_expired_state_is_refused(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    world, server = square_server
    api = await oauth_api(make_api, server)
    acme = await started(api, world)
    issued = datetime.now(UTC) - timedelta(minutes=11)
    expired = OAuthState(
        tenant_id=acme.tenant_id, pos="square", expires_at=issued + timedelta(minutes=10)
    )
    await api.app.state.container.pos_oauth_states().issue(digest("old-state"), expired, issued)

    answer = await callback(acme, code=world.code, state="old-state")

    assert answer.status_code == 400
    assert "expired" in answer.json()["detail"]
    assert (await acme.channels())["square"]["token_expires_at"] is None


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ({"error": "access_denied"}, "oauth-denied"),
        ({"code": "stolen-code"}, "pos-refused"),
        ({}, "oauth-denied"),
    ],
)
async def test_a_denied_or_refused_grant_stores_nothing(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server], query: dict[str, str], slug: str
) -> None:
    world, server = square_server
    api = await oauth_api(make_api, server)
    acme = await started(api, world)
    state = await begin(acme)

    answer = await callback(acme, state=state, **query)

    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["type"] == PROBLEM + slug
    assert (await acme.channels())["square"]["token_expires_at"] is None


@pytest.mark.parametrize(
    "query",
    [{"code": "c"}, {"code": "c", "state": "x" * 600}, {"code": "c", "state": "a b<"}],
)
async def test_a_malformed_callback_is_a_validation_problem(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server], query: dict[str, str]
) -> None:
    world, server = square_server
    api = await oauth_api(make_api, server)
    acme = await started(api, world)

    answer = await callback(acme, **query)

    assert answer.status_code in (400, 422), answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_oauth_needs_a_connection_an_app_and_an_admin(
    make_api: MakeApi, square_server: tuple[SquareWorld, Server]
) -> None:
    _, server = square_server
    api = await oauth_api(make_api, server)
    acme = await shop(api, "acme")
    staff = bearer(
        await api.key(
            await api.app.state.container.tenants().get_tenant(acme.tenant_id), Role.STAFF
        )
    )

    unconnected = await acme.call("POST", "/admin/channels/square/oauth")
    no_app = await acme.call("POST", "/admin/channels/clover/oauth")
    forbidden = await api.client.post("/api/v1/admin/channels/square/oauth", headers=staff)
    unknown = await acme.call("POST", "/admin/channels/toast/oauth")

    assert (unconnected.status_code, unconnected.json()["type"]) == (
        422,
        PROBLEM + "pos-not-connected",
    )
    assert (no_app.status_code, no_app.json()["type"]) == (422, PROBLEM + "oauth-not-configured")
    assert forbidden.status_code == 403
    assert unknown.status_code == 404
