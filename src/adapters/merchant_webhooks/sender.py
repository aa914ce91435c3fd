"""Posts signed deliveries with httpx: no redirects (a 3xx is an answer, not a new
target to reach unchecked), a timeout per attempt, at most ``MAX_BODY`` bytes read back."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping

import httpx

from commerce_core.merchant_webhooks.ports import SendResult

MAX_BODY = 4096


class HttpxWebhookSender:
    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            trust_env=False,  # never through a proxy from the environment
        )

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes, time_limit: float
    ) -> SendResult:
        try:
            async with asyncio.timeout(time_limit):
                async with self._client.stream(
                    "POST", url, headers=dict(headers), content=body, timeout=time_limit
                ) as response:
                    kept = b""
                    async for chunk in response.aiter_bytes():
                        kept += chunk
                        if len(kept) >= MAX_BODY:
                            break
                    return SendResult(
                        status_code=response.status_code,
                        response_body=kept[:MAX_BODY].decode("utf-8", "replace"),
                    )
        except TimeoutError:
            return SendResult(status_code=None, error=f"no answer within {time_limit:g} s")
        except httpx.HTTPError as failed:
            return SendResult(status_code=None, error=f"{type(failed).__name__}: {failed}")

    async def aclose(self) -> None:
        await self._client.aclose()


class SystemResolver:
    """The host's addresses as the system resolves them now."""

    async def resolve(self, host: str) -> list[str]:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except OSError:
            return []
        return sorted({str(info[4][0]) for info in found})
