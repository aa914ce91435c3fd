"""Square OAuth: the authorize URL, the code exchanged for tokens, refreshed before expiry."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from square import AsyncSquare

from adapters.square.oauth import authorize_url, exchange_code, needs_refresh, refresh
from adapters.square.pos import SquarePos
from commerce_core.channels.ports import PosRefusedError
from tests.integration.pos.square_running import square
from tests.integration.pos.square_world import T0


def test_the_authorize_url_asks_for_orders_and_inventory_and_carries_the_state() -> None:
    url = authorize_url(client_id="sq0idp-app", state="tenant-1:nonce")

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.netloc, parts.path) == ("connect.squareup.com", "/oauth2/authorize")
    assert query["state"] == ["tenant-1:nonce"]
    assert {"ORDERS_WRITE", "INVENTORY_WRITE"} <= set(query["scope"][0].split())


async def test_a_code_becomes_tokens_that_reach_the_api_and_are_refreshed_before_expiry() -> None:
    async with square() as (_, world, server), httpx.AsyncClient() as http:
        client = AsyncSquare(token="unused", base_url=server.url, httpx_client=http)
        app = {"client_id": "sq0idp-app", "client_secret": world.client_secret}

        tokens = await exchange_code(client, code=world.code, **app)
        connected = SquarePos(
            access_token=tokens.access_token, signature_key="k", base_url=server.url
        )
        locations = await connected.list_locations()
        await connected.aclose()
        fresh = await refresh(client, tokens=tokens, **app)

    assert [location.location_id for location in locations] == [world.location_id]
    assert tokens.merchant_id == "MERCHANT-1"
    assert fresh.access_token != tokens.access_token
    assert not needs_refresh(tokens, T0)
    assert needs_refresh(tokens, T0 + timedelta(days=8))


async def test_a_wrong_code_is_refused() -> None:
    async with square() as (_, world, server), httpx.AsyncClient() as http:
        client = AsyncSquare(token="unused", base_url=server.url, httpx_client=http)

        with pytest.raises(PosRefusedError):
            await exchange_code(
                client, client_id="sq0idp-app", client_secret=world.client_secret, code="stolen"
            )
