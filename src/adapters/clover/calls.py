"""Clover's HTTP answers as the POS port's errors: one place that reads status codes.

Clover answers an error with a status and, usually, a JSON body ``{"message": ...}``; a
429 (its per-token and per-app rate limits) may say ``Retry-After`` in seconds.
"""

from __future__ import annotations

from typing import Any

import httpx

from commerce_core.channels.ports import (
    PosError,
    PosRateLimitedError,
    PosRefusedError,
    PosUnavailableError,
    UnknownPosOrderError,
)


async def send(client: httpx.AsyncClient, request: httpx.Request, *, what: str) -> Any:
    """Sends ``request``; its JSON answer, or the port's error for what went wrong."""
    try:
        response = await client.send(request)
    except httpx.HTTPError as error:
        raise PosUnavailableError(f"Clover did not answer {what}: {error!r}") from error
    if response.status_code >= 400:
        raise translated(response, what)
    try:
        return response.json()
    except ValueError as error:
        raise PosUnavailableError(f"Clover's answer to {what} is unreadable") from error


def translated(response: httpx.Response, what: str) -> PosError:
    status = response.status_code
    if status == 429:
        return PosRateLimitedError(
            f"Clover asks to slow down ({what})", _seconds(response.headers.get("retry-after"))
        )
    if status >= 500:
        return PosUnavailableError(f"Clover could not answer {what} (status {status})")
    message = f"Clover refused {what} (status {status}): {_message(response)}"
    if status == 404:
        return UnknownPosOrderError(message, "NOT_FOUND")
    return PosRefusedError(
        message, {401: "UNAUTHORIZED", 403: "FORBIDDEN"}.get(status, str(status))
    )


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    return str(body.get("message") if isinstance(body, dict) else body)[:200]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
