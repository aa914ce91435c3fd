"""Text messages through Twilio with the official SDK (``Client.messages.create_async``).

The SDK's HTTP calls go through ``HttpxTwilioClient``: httpx, and a base URL that
replaces ``https://api.twilio.com`` (``TWILIO_BASE_URL``), so tests can point it at a
local receiver that checks each request against Twilio's published API description.
"""

from __future__ import annotations

import logging

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from commerce_core.notifications.notification import SendFailure

TWILIO_API = "https://api.twilio.com"

RETRIABLE_4XX = frozenset({408, 429})
"""Twilio's "request timeout" and "too many requests": the same request may pass later.
Any other 4xx (400 with 21211 "not a valid number" or 21610 "unsubscribed recipient",
401, 403, 404) refuses this message for good, like a 5xx never does."""


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]
    def __init__(self, base_url: str = TWILIO_API, timeout: float = 15.0) -> None:
        super().__init__(logger=logging.getLogger("twilio.http"), is_async=True, timeout=timeout)
        self._base = base_url.rstrip("/")

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the SDK's signature)
        allow_redirects: bool = False,
    ) -> Response:
        if url.startswith(TWILIO_API):
            url = self._base + url[len(TWILIO_API) :]
        async with httpx.AsyncClient(timeout=timeout or self.timeout) as client:
            answer = await client.request(
                method.upper(),
                url,
                params=params,  # type: ignore[arg-type]
                data=data,
                headers=headers,
                auth=auth,
                follow_redirects=allow_redirects,
            )
        return Response(answer.status_code, answer.text, answer.headers)


class TwilioSmsSender:
    def __init__(
        self, account_sid: str, auth_token: str, from_number: str, base_url: str = TWILIO_API
    ) -> None:
        self._client = Client(account_sid, auth_token, http_client=HttpxTwilioClient(base_url))
        self._from = from_number

    async def send(self, to: str, body: str) -> SendFailure | None:
        try:
            await self._client.messages.create_async(to=to, from_=self._from, body=body)
        except TwilioRestException as error:
            # Twilio's own code (21211: not a valid number) is what its error pages index
            return SendFailure(
                f"Twilio error {error.code} (HTTP {error.status}): {error.msg}",
                permanent=400 <= error.status < 500 and error.status not in RETRIABLE_4XX,
            )
        except (TwilioException, httpx.HTTPError) as error:
            return SendFailure(f"{type(error).__name__}: {error}")
        return None
