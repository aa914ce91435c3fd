"""Square's answers as the POS port's errors: one place that reads status codes.

The SDK's own retries are off (``NO_RETRIES``): the sync retries with its own backoff, and
tests never wait.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import httpx
from square.core.api_error import ApiError
from square.core.request_options import RequestOptions

from commerce_core.channels.ports import (
    PosError,
    PosRateLimitedError,
    PosRefusedError,
    PosUnavailableError,
    UnknownPosOrderError,
)

T = TypeVar("T")

NO_RETRIES: RequestOptions = {"max_retries": 0}


async def call(request: Awaitable[T], *, what: str) -> T:
    try:
        return await request
    except ApiError as error:
        raise translated(error, what) from error
    except httpx.HTTPError as error:
        raise PosUnavailableError(f"Square did not answer {what}: {error!r}") from error
    except ValueError as error:  # an answer the SDK could not read
        raise PosUnavailableError(f"Square's answer to {what} is unreadable") from error


def translated(error: ApiError, what: str) -> PosError:
    status = error.status_code or 0
    codes = [str(found.code) for found in error.errors]
    detail = "; ".join(str(found.detail or found.code) for found in error.errors) or str(error.body)
    message = f"Square refused {what}: {detail}"
    if status == 429:
        return PosRateLimitedError(
            f"Square asks to slow down ({what})", _retry_after(error.headers or {})
        )
    if status >= 500 or status < 400:
        # below 400: a success whose body was not JSON
        return PosUnavailableError(f"Square could not answer {what} (status {status})")
    if status == 404 or "NOT_FOUND" in codes:
        return UnknownPosOrderError(message, "NOT_FOUND")
    return PosRefusedError(message, codes[0] if codes else "")


def _retry_after(headers: dict[str, str]) -> float | None:
    value = {name.lower(): found for name, found in headers.items()}.get("retry-after", "")
    try:
        return float(value)
    except ValueError:
        return None
