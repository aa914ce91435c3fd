"""The rate limits of one app: which quota a request falls under, and its count.

Requests are counted per API key and route class (``reads``: GET and HEAD;
``payments``: other methods on a path with a payment or refund segment; ``writes``:
the rest), under the tenant's own limit for the class or the service's default.
Failed authentications are counted per client address. When the limiter's storage is
unreachable requests go through uncounted (and a warning is logged).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

import structlog

from commerce_core.shared.ports.rate_limits import (
    LimiterUnavailableError,
    Quota,
    RateLimiter,
    Verdict,
)
from commerce_core.tenancy.ports.tenants import Tenants
from commerce_core.tenancy.rate_limits import (
    MINUTE_MS,
    RateLimitSettings,
    RouteClass,
    RouteLimit,
)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAYMENT_SEGMENTS = frozenset(
    {"payments", "charge", "capture", "void", "refund", "refunds", "manual-refund"}
)


def route_class(method: str, path: str) -> RouteClass:
    if method in READ_METHODS:
        return RouteClass.READS
    if PAYMENT_SEGMENTS.intersection(path.split("/")):
        return RouteClass.PAYMENTS
    return RouteClass.WRITES


class EdgeLimits:
    """The limiter and the quotas; a tenant's settings are trusted for ``settings_ttl``
    seconds (a changed limit applies within that time)."""

    def __init__(
        self,
        limiter: Callable[[], RateLimiter],
        tenants: Callable[[], Tenants],
        *,
        default: RouteLimit,
        auth_failures_per_minute: int,
        settings_ttl: float,
        clock: Callable[[], float] = time.monotonic,
        max_tenants: int = 10_000,
    ) -> None:
        self._limiter = limiter
        self._tenants = tenants
        self.default = default
        self._auth_failures = Quota(auth_failures_per_minute, MINUTE_MS, auth_failures_per_minute)
        self._ttl = settings_ttl
        self._clock = clock
        self._max_tenants = max_tenants
        self._settings: dict[UUID, tuple[float, RateLimitSettings]] = {}

    async def hit(self, key: str, quota: Quota) -> Verdict | None:
        """The verdict, or None when the limiter cannot count (the request goes on)."""
        try:
            return await self._limiter().hit(key, quota)
        except LimiterUnavailableError as error:
            _unavailable(error)
            return None

    async def tenant_settings(self, tenant_id: UUID) -> RateLimitSettings:
        now = self._clock()
        cached = self._settings.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            tenant = await self._tenants().get_tenant(tenant_id)
        except ValueError as error:  # settings edited by hand into something unreadable
            structlog.get_logger("http.rate_limits").error(
                "tenant settings unreadable; default rate limits apply",
                tenant_id=str(tenant_id),
                error=str(error),
            )
            tenant = None
        settings = tenant.settings.rate_limits if tenant is not None else RateLimitSettings()
        if self._ttl > 0:
            if len(self._settings) >= self._max_tenants:
                self._settings.clear()
            self._settings[tenant_id] = (now + self._ttl, settings)
        return settings

    async def hit_key(
        self, tenant_id: UUID, key_id: UUID, method: str, path: str
    ) -> Verdict | None:
        """Counts a request of an API key against its route class's quota."""
        kind = route_class(method, path)
        quota = (await self.tenant_settings(tenant_id)).route_quota(kind, self.default)
        return await self.hit(f"key:{key_id}:{kind}", quota)

    async def auth_blocked(self, address: str) -> Verdict | None:
        """The refusal when ``address`` has used up its failed authentications, else None."""
        try:
            verdict = await self._limiter().peek(_auth_key(address), self._auth_failures)
        except LimiterUnavailableError as error:
            _unavailable(error)
            return None
        return None if verdict.allowed else verdict

    async def auth_failed(self, address: str) -> Verdict | None:
        """Counts a failed authentication; the refusal when it was one too many, else None."""
        verdict = await self.hit(_auth_key(address), self._auth_failures)
        return None if verdict is None or verdict.allowed else verdict


def _auth_key(address: str) -> str:
    return f"auth-failures:{address}"


def _unavailable(error: LimiterUnavailableError) -> None:
    structlog.get_logger("http.rate_limits").warning(
        "rate limiter unavailable; request not counted", error=str(error)
    )
