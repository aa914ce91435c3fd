"""The app's rate limits without HTTP: route classes, tenant settings, an unavailable limiter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.memory.tenants import MemoryTenants
from adapters.ratelimit.limiter import TokenBucketLimiter
from adapters.ratelimit.states import MemoryStates
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.rate_limits import (
    LimiterUnavailableError,
    Quota,
    RateLimiter,
    Verdict,
)
from commerce_core.tenancy.ports.tenants import Tenant, TenantSettings
from commerce_core.tenancy.rate_limits import RateLimitSettings, RouteClass, RouteLimit
from entrypoints.http.limits.edge import EdgeLimits, route_class

TENANT = uuid.uuid4()
KEY = uuid.uuid4()


class Seconds:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class BrokenLimiter:
    async def hit(self, key: str, quota: Quota) -> Verdict:
        raise LimiterUnavailableError("connection refused")

    async def peek(self, key: str, quota: Quota) -> Verdict:
        raise LimiterUnavailableError("connection refused")

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/api/v1/orders", RouteClass.READS),
        ("HEAD", "/api/v1/payments/abc", RouteClass.READS),
        ("GET", "/api/v1/payments/abc", RouteClass.READS),
        ("POST", "/api/v1/orders", RouteClass.WRITES),
        ("PUT", "/api/v1/products/SKU-1", RouteClass.WRITES),
        ("POST", "/api/v1/orders/abc/cancel", RouteClass.WRITES),
        ("POST", "/api/v1/payments/charge", RouteClass.PAYMENTS),
        ("POST", "/api/v1/payments/abc/capture", RouteClass.PAYMENTS),
        ("POST", "/api/v1/orders/abc/refund", RouteClass.PAYMENTS),
        ("POST", "/api/v1/orders/abc/payments/manual", RouteClass.PAYMENTS),
        ("POST", "/api/v1/payments/abc/manual-refund", RouteClass.PAYMENTS),
        # a segment that merely contains the word is not a payment route
        ("PUT", "/api/v1/products/payments-book", RouteClass.WRITES),
    ],
)
def test_route_classes(method: str, path: str, kind: RouteClass) -> None:
    assert route_class(method, path) == kind


async def _tenants(settings: RateLimitSettings) -> MemoryTenants:
    tenants = MemoryTenants()
    await tenants.add_tenant(
        Tenant(
            id=TENANT,
            slug="acme",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            settings=TenantSettings(rate_limits=settings),
        )
    )
    return tenants


def _edge(limiter: RateLimiter, tenants: MemoryTenants, clock: Seconds, ttl: float) -> EdgeLimits:
    return EdgeLimits(
        lambda: limiter,
        lambda: tenants,
        default=RouteLimit(per_second=100, burst=3),
        auth_failures_per_minute=2,
        settings_ttl=ttl,
        clock=clock,
    )


def _limiter() -> RateLimiter:
    return TokenBucketLimiter(MemoryStates(), lambda: 1_780_000_000_000)


async def test_each_route_class_of_a_key_has_its_own_bucket() -> None:
    edge = _edge(_limiter(), await _tenants(RateLimitSettings()), Seconds(), ttl=0)
    reads = [await edge.hit_key(TENANT, KEY, "GET", "/api/v1/orders") for _ in range(4)]
    write = await edge.hit_key(TENANT, KEY, "POST", "/api/v1/orders")

    assert [v.allowed for v in reads if v] == [True, True, True, False]
    assert write is not None
    assert write.allowed
    assert write.remaining == 2


async def test_a_changed_tenant_setting_applies_once_the_cached_one_expires() -> None:
    tenants, clock = await _tenants(RateLimitSettings()), Seconds()
    edge = _edge(_limiter(), tenants, clock, ttl=30)
    assert (await edge.tenant_settings(TENANT)).checkout_per_minute is None

    await tenants.update_settings(
        TENANT, TenantSettings(rate_limits=RateLimitSettings(checkout_per_minute=3))
    )
    clock.now += 29
    assert (await edge.tenant_settings(TENANT)).checkout_per_minute is None
    clock.now += 2
    assert (await edge.tenant_settings(TENANT)).checkout_per_minute == 3


async def test_an_unknown_tenant_gets_the_defaults() -> None:
    edge = _edge(_limiter(), MemoryTenants(), Seconds(), ttl=0)

    assert await edge.tenant_settings(uuid.uuid4()) == RateLimitSettings()


async def test_failed_authentications_block_an_address_once_used_up() -> None:
    edge = _edge(_limiter(), MemoryTenants(), Seconds(), ttl=0)

    assert await edge.auth_blocked("10.0.0.1") is None
    assert await edge.auth_failed("10.0.0.1") is None
    assert await edge.auth_failed("10.0.0.1") is None
    refused = await edge.auth_failed("10.0.0.1")
    assert refused is not None
    assert refused.retry_after_ms == 30_000  # 2 per minute
    assert await edge.auth_blocked("10.0.0.1") is not None
    assert await edge.auth_blocked("10.0.0.2") is None


async def test_an_unavailable_limiter_lets_everything_through() -> None:
    edge = _edge(BrokenLimiter(), await _tenants(RateLimitSettings()), Seconds(), ttl=0)

    assert await edge.hit_key(TENANT, KEY, "GET", "/api/v1/orders") is None
    assert await edge.auth_blocked("10.0.0.1") is None
    assert await edge.auth_failed("10.0.0.1") is None


class UnreadableTenants(MemoryTenants):
    async def get_tenant(self, tenant_id: uuid.UUID) -> Tenant | None:
        raise InvalidValueError("per_second and burst must be positive")


async def test_unreadable_tenant_settings_fall_back_to_the_defaults() -> None:
    """Settings edited by hand into nonsense must not turn every request into a 500."""
    edge = _edge(_limiter(), UnreadableTenants(), Seconds(), ttl=0)

    verdict = await edge.hit_key(TENANT, KEY, "GET", "/api/v1/orders")

    assert verdict is not None
    assert verdict.limit == 3
