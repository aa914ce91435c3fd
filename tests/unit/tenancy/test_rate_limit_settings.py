"""A tenant's rate-limit settings: stored as JSON with the other settings, checked when read."""

from __future__ import annotations

import msgspec
import pytest

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.rate_limits import Quota
from commerce_core.tenancy.ports.tenants import TenantSettings
from commerce_core.tenancy.rate_limits import RateLimitSettings, RouteClass, RouteLimit

DEFAULT = RouteLimit(per_second=100, burst=200)


def test_settings_stored_before_rate_limits_existed_read_as_the_defaults() -> None:
    old = msgspec.json.decode(b'{"refund_approval_threshold": 5000}', type=TenantSettings)

    assert old.rate_limits == RateLimitSettings()
    for kind in RouteClass:
        assert old.rate_limits.route_quota(kind, DEFAULT) == Quota(100, 1_000, 200)
    assert old.rate_limits.checkout_quota() is None  # off by default


def test_a_route_class_of_its_own_overrides_the_default_for_that_class_only() -> None:
    limits = RateLimitSettings(payments=RouteLimit(per_second=5, burst=10))
    stored = msgspec.json.decode(msgspec.json.encode(TenantSettings(rate_limits=limits)))
    read = msgspec.convert(stored, TenantSettings).rate_limits

    assert read.route_quota(RouteClass.PAYMENTS, DEFAULT) == Quota(5, 1_000, 10)
    assert read.route_quota(RouteClass.READS, DEFAULT) == Quota(100, 1_000, 200)
    assert read.route_quota(RouteClass.WRITES, DEFAULT) == Quota(100, 1_000, 200)


def test_the_checkout_limit_is_per_minute_with_a_burst_of_as_many() -> None:
    assert RateLimitSettings(checkout_per_minute=10).checkout_quota() == Quota(10, 60_000, 10)


@pytest.mark.parametrize(
    "document",
    [
        b'{"rate_limits": {"reads": {"per_second": 0, "burst": 1}}}',
        b'{"rate_limits": {"writes": {"per_second": 5, "burst": -1}}}',
        b'{"rate_limits": {"checkout_per_minute": 0}}',
        b'{"rate_limits": {"payments": {"per_second": "5", "burst": 5}}}',
    ],
)
def test_limits_that_are_not_positive_integers_are_refused(document: bytes) -> None:
    with pytest.raises((InvalidValueError, msgspec.ValidationError)):
        msgspec.json.decode(document, type=TenantSettings)
