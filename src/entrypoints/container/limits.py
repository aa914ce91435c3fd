"""The rate limiter: in this process's memory, or in Redis when ``REDIS_URL`` is set."""

from __future__ import annotations

from collections.abc import Callable

from adapters.ratelimit.limiter import TokenBucketLimiter
from adapters.ratelimit.states import MemoryStates, RedisStates, States
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.ports.rate_limits import RateLimiter
from entrypoints.settings import Settings


def rate_limiter(settings: Settings, clock: Callable[[], Clock]) -> RateLimiter:
    # the clock is looked up on each request, so that tests may replace it at any time
    def now_ms() -> int:
        return int(clock().now().timestamp() * 1000)

    states: States = (
        RedisStates.from_url(settings.redis_url, settings.rate_limit_redis_prefix)
        if settings.redis_url
        else MemoryStates()
    )
    return TokenBucketLimiter(states, now_ms)
