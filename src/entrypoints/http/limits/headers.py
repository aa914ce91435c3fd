"""What a limited answer carries: ``RateLimit-*`` headers, and on 429 ``Retry-After``.

The headers are the separate fields of the IETF draft "RateLimit header fields for
HTTP" (``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``), not its
later combined ``RateLimit`` field: they are what most clients read today.
``RateLimit-Limit`` is the burst (how many requests may go at once),
``RateLimit-Remaining`` what is left of it, ``RateLimit-Reset`` the seconds until it
is whole again.
"""

from __future__ import annotations

from math import ceil

from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import Scope, Send

from commerce_core.shared.ports.rate_limits import Verdict
from entrypoints.http.problems import PROBLEM_TYPE_BASE, send_problem, title_of

RATE_LIMITED = "rate-limited"


def rate_limit_headers(verdict: Verdict) -> dict[str, str]:
    headers = {
        "RateLimit-Limit": str(verdict.limit),
        "RateLimit-Remaining": str(verdict.remaining),
        "RateLimit-Reset": str(ceil(verdict.reset_ms / 1000)),
    }
    if not verdict.allowed:
        headers["Retry-After"] = str(max(1, ceil(verdict.retry_after_ms / 1000)))
    return headers


def rate_limited(verdict: Verdict, detail: str) -> ProblemDetailsException:
    """The 429 to raise from a handler."""
    return ProblemDetailsException(
        detail=detail,
        status_code=429,
        type_=PROBLEM_TYPE_BASE + RATE_LIMITED,
        title=title_of(RATE_LIMITED),
        headers=rate_limit_headers(verdict),
    )


async def send_rate_limited(scope: Scope, send: Send, verdict: Verdict, detail: str) -> None:
    """The 429 sent straight from a middleware."""
    await send_problem(scope, send, 429, RATE_LIMITED, detail, rate_limit_headers(verdict))
