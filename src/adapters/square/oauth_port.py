"""Square's OAuth as the channels' ``PosOAuth`` port (the platform's Square app)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from square import AsyncSquare

from adapters.square import oauth
from commerce_core.channels.oauth import PosTokens


class SquareOAuth:
    refresh_margin: timedelta = oauth.REFRESH_MARGIN

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        base_url: str = "https://connect.squareup.com",
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._base_url = base_url
        self._http = httpx.AsyncClient(timeout=30.0)
        # The token endpoint needs no bearer token; the SDK insists on one.
        self._client = AsyncSquare(token="unused", base_url=base_url, httpx_client=self._http)

    def authorize_url(self, state: str) -> str:
        return oauth.authorize_url(client_id=self._client_id, state=state, base_url=self._base_url)

    async def exchange(self, code: str) -> PosTokens:
        found = await oauth.exchange_code(
            self._client, client_id=self._client_id, client_secret=self._client_secret, code=code
        )
        return _tokens(found)

    async def refresh(self, refresh_token: str) -> PosTokens:
        # Only the refresh token is sent; Square answers with the merchant again.
        current = oauth.SquareTokens(
            access_token="",
            refresh_token=refresh_token,
            expires_at=datetime(1970, 1, 1, tzinfo=UTC),
            merchant_id="-",
        )
        found = await oauth.refresh(
            self._client,
            client_id=self._client_id,
            client_secret=self._client_secret,
            tokens=current,
        )
        return _tokens(found)

    async def aclose(self) -> None:
        await self._http.aclose()


def _tokens(found: oauth.SquareTokens) -> PosTokens:
    return PosTokens(
        access_token=found.access_token,
        refresh_token=found.refresh_token,
        expires_at=found.expires_at,
        merchant_id=found.merchant_id or None,
    )
