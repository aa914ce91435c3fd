"""The rate-limiter port: a token bucket per key, counted here or shared between nodes."""

from __future__ import annotations

from typing import Protocol

import msgspec

from commerce_core.shared.errors import InvalidValueError


class Quota(msgspec.Struct, frozen=True):
    """``rate`` requests per ``period_ms`` sustained, and up to ``burst`` at once.

    A token bucket: it holds ``burst`` tokens, refills at ``rate`` per ``period_ms``,
    and each request takes one.
    """

    rate: int
    period_ms: int
    burst: int

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.period_ms <= 0 or self.burst <= 0:
            raise InvalidValueError("a quota's rate, period and burst must be positive")


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    """A limiter's answer: whether the request may go on, and what is left.

    ``limit`` is the burst; ``remaining`` the tokens left after this request;
    ``reset_ms`` how long until the bucket is full again; ``retry_after_ms`` how long
    a refused request should wait (0 when allowed).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int
    retry_after_ms: int = 0


class LimiterUnavailableError(Exception):
    """The limiter's storage (Redis) did not answer."""


class RateLimiter(Protocol):
    """Token buckets by key (a key names who is counted: an API key, an address...).

    - ``hit`` takes one token from ``key``'s bucket if it has one.
    - ``peek`` says whether a ``hit`` would be allowed now, taking nothing.
    - ``close`` releases connections.

    Both raise ``LimiterUnavailableError`` when their storage fails; callers then let
    the request through: limits protect the service, and an outage of their storage
    must not stop it.
    """

    async def hit(self, key: str, quota: Quota) -> Verdict: ...

    async def peek(self, key: str, quota: Quota) -> Verdict: ...

    async def close(self) -> None: ...
