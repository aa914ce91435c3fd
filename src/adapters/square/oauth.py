"""Square OAuth (code flow) as plain functions: the authorize URL a seller is sent to, the
code exchanged for tokens, and tokens refreshed well before they expire.

Square access tokens live 30 days; Square advises refreshing at least every 7, so a token
is due for refresh once fewer than ``REFRESH_MARGIN`` remain. The connection (issue 15 item 2)
stores the tokens sealed and calls ``refresh`` from the background work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

import msgspec
from square import AsyncSquare

from adapters.square.calls import NO_RETRIES, call
from commerce_core.channels.ports import PosRefusedError

REFRESH_MARGIN = timedelta(days=23)
SCOPES = (
    "ORDERS_READ",
    "ORDERS_WRITE",
    "INVENTORY_READ",
    "INVENTORY_WRITE",
    "ITEMS_READ",
    "MERCHANT_PROFILE_READ",
)


class SquareTokens(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    refresh_token: str
    expires_at: datetime
    merchant_id: str


def authorize_url(
    *, client_id: str, state: str, base_url: str = "https://connect.squareup.com"
) -> str:
    """Where to send the seller to grant access; ``state`` comes back to the callback."""
    query = urlencode(
        {"client_id": client_id, "scope": " ".join(SCOPES), "session": "false", "state": state}
    )
    return f"{base_url}/oauth2/authorize?{query}"


async def exchange_code(
    client: AsyncSquare, *, client_id: str, client_secret: str, code: str
) -> SquareTokens:
    found = await call(
        client.o_auth.obtain_token(
            client_id=client_id,
            client_secret=client_secret,
            code=code,
            grant_type="authorization_code",
            request_options=NO_RETRIES,
        ),
        what="exchanging the authorization code",
    )
    return _tokens(found.access_token, found.refresh_token, found.expires_at, found.merchant_id)


async def refresh(
    client: AsyncSquare, *, client_id: str, client_secret: str, tokens: SquareTokens
) -> SquareTokens:
    found = await call(
        client.o_auth.obtain_token(
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=tokens.refresh_token,
            grant_type="refresh_token",
            request_options=NO_RETRIES,
        ),
        what="refreshing the access token",
    )
    return _tokens(
        found.access_token,
        found.refresh_token or tokens.refresh_token,
        found.expires_at,
        found.merchant_id or tokens.merchant_id,
    )


def needs_refresh(tokens: SquareTokens, now: datetime) -> bool:
    return tokens.expires_at - now < REFRESH_MARGIN


def _tokens(
    access: str | None, refresh_token: str | None, expires_at: str | None, merchant: str | None
) -> SquareTokens:
    if not (access and refresh_token and expires_at and merchant):
        raise PosRefusedError("Square's token answer lacks a token, its expiry or merchant")
    return SquareTokens(
        access_token=access,
        refresh_token=refresh_token,
        expires_at=datetime.fromisoformat(expires_at),
        merchant_id=merchant,
    )
