"""Clover's v2 OAuth (auth code flow for apps that keep their secret) as the channels'
``PosOAuth`` port: the authorize page on ``www.clover.com``, the code exchanged at
``/oauth/v2/token`` and the pair renewed at ``/oauth/v2/refresh`` on the API host.

Clover's tokens expire at the Unix times its answers give (``access_token_expiration``;
Clover asks not to assume a length), and a refresh token is used once: a refresh answers a
new pair. The sync refreshes once fewer than ``REFRESH_MARGIN`` remain (it pulls each minute).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from adapters.clover.calls import send
from commerce_core.channels.oauth import PosTokens
from commerce_core.channels.ports import PosUnavailableError

REFRESH_MARGIN = timedelta(minutes=10)


class CloverOAuth:
    refresh_margin: timedelta = REFRESH_MARGIN

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        redirect_url: str | None = None,
        authorize_base: str = "https://www.clover.com",
        api_base: str = "https://api.clover.com",
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_url = redirect_url
        self._authorize_base = authorize_base
        self._http = httpx.AsyncClient(base_url=api_base, timeout=30.0)

    def authorize_url(self, state: str) -> str:
        query = {"client_id": self._client_id, "state": state}
        if self._redirect_url:
            query["redirect_uri"] = self._redirect_url
        return f"{self._authorize_base}/oauth/v2/authorize?{urlencode(query)}"

    async def exchange(self, code: str) -> PosTokens:
        body = {"client_id": self._client_id, "client_secret": self._client_secret, "code": code}
        return await self._tokens("/oauth/v2/token", body, "exchanging the authorization code")

    async def refresh(self, refresh_token: str) -> PosTokens:
        body = {"client_id": self._client_id, "refresh_token": refresh_token}
        return await self._tokens("/oauth/v2/refresh", body, "refreshing the access token")

    async def _tokens(self, path: str, body: dict[str, str], what: str) -> PosTokens:
        found: Any = await send(
            self._http, self._http.build_request("POST", path, json=body), what=what
        )
        try:
            return PosTokens(
                access_token=str(found["access_token"]),
                refresh_token=str(found["refresh_token"]),
                expires_at=datetime.fromtimestamp(int(found["access_token_expiration"]), tz=UTC),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PosUnavailableError(f"Clover's answer to {what} lacks a token") from error

    async def aclose(self) -> None:
        await self._http.aclose()
