"""A tenant's rate limits: per route class for each of its API keys, and for checkouts.

Unset route classes use the service's default (``RATE_LIMIT_PER_SECOND`` and
``RATE_LIMIT_BURST``). The checkout limit counts ``POST /orders`` per customer and is
off unless the tenant sets ``checkout_per_minute``.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.rate_limits import Quota

SECOND_MS = 1_000
MINUTE_MS = 60_000


class RouteClass(StrEnum):
    """What a request does: reads (GET, HEAD), payments (writes that move money), writes."""

    READS = "reads"
    WRITES = "writes"
    PAYMENTS = "payments"


class RouteLimit(msgspec.Struct, frozen=True, kw_only=True):
    """``per_second`` requests sustained per API key, and up to ``burst`` at once."""

    per_second: int
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst <= 0:
            raise InvalidValueError("per_second and burst must be positive")

    def quota(self) -> Quota:
        return Quota(self.per_second, SECOND_MS, self.burst)


class RateLimitSettings(msgspec.Struct, frozen=True, kw_only=True):
    reads: RouteLimit | None = None
    writes: RouteLimit | None = None
    payments: RouteLimit | None = None
    # orders a customer (by id or email) may place per minute; None: no limit
    checkout_per_minute: int | None = None

    def __post_init__(self) -> None:
        if self.checkout_per_minute is not None and self.checkout_per_minute <= 0:
            raise InvalidValueError("checkout_per_minute must be positive (or null: off)")

    def route_quota(self, route_class: RouteClass, default: RouteLimit) -> Quota:
        own: RouteLimit | None = getattr(self, route_class.value)
        return (own or default).quota()

    def checkout_quota(self) -> Quota | None:
        per_minute = self.checkout_per_minute
        return None if per_minute is None else Quota(per_minute, MINUTE_MS, per_minute)
