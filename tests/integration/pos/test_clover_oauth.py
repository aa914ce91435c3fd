"""Clover's v2 OAuth against the docs-checked stand-in: the authorize URL, a code for a
token pair that reaches the API, a refresh token used once, and refusals."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.clover.oauth import CloverOAuth
from adapters.clover.pos import CloverPos
from commerce_core.channels.ports import PosRefusedError
from tests.integration.pos.clover_running import clover
from tests.integration.pos.clover_world import T0


def test_the_authorize_url_names_the_app_the_redirect_and_the_state() -> None:
    app = CloverOAuth(
        client_id="APP1", client_secret="s", redirect_url="https://shop.example/clover/back"
    )

    url = urlsplit(app.authorize_url("state-1"))

    assert (url.netloc, url.path) == ("www.clover.com", "/oauth/v2/authorize")
    assert parse_qs(url.query) == {
        "client_id": ["APP1"],
        "state": ["state-1"],
        "redirect_uri": ["https://shop.example/clover/back"],
    }


async def test_a_code_becomes_a_pair_that_reaches_the_api_and_a_refresh_token_works_once() -> None:
    async with clover() as (_, world, server):
        app = CloverOAuth(client_id="APP1", client_secret=world.client_secret, api_base=server.url)

        tokens = await app.exchange(world.code)
        connected = CloverPos(
            merchant_id=world.merchant_id,
            access_token=tokens.access_token,
            auth_code="",
            base_url=server.url,
        )
        locations = await connected.list_locations()
        await connected.aclose()
        fresh = await app.refresh(tokens.refresh_token)
        with pytest.raises(PosRefusedError):
            await app.refresh(tokens.refresh_token)  # used once
        await app.aclose()

    assert [location.location_id for location in locations] == [world.merchant_id]
    assert tokens.expires_at == T0 + timedelta(hours=1)
    assert fresh.access_token != tokens.access_token


async def test_a_wrong_code_is_refused() -> None:
    async with clover() as (_, world, server):
        app = CloverOAuth(client_id="APP1", client_secret=world.client_secret, api_base=server.url)

        with pytest.raises(PosRefusedError):
            await app.exchange("stolen")
        await app.aclose()
