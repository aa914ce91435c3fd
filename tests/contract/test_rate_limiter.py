"""The rate limiter contract (a token bucket per key), in memory and on the real Redis.

Time is a hand-moved millisecond clock: nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.ratelimit.limiter import TokenBucketLimiter
from adapters.ratelimit.states import MemoryStates, RedisStates
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.rate_limits import LimiterUnavailableError, Quota, RateLimiter
from tests.redis_url import TEST_REDIS_URL, unique_prefix

START_MS = 1_780_000_000_000
# 10 per second sustained (one token each 100 ms), 5 at once
QUOTA = Quota(rate=10, period_ms=1_000, burst=5)


class Millis:
    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Millis:
    return Millis()


@pytest.fixture(params=["memory", "redis"])
async def limiter(request: pytest.FixtureRequest, clock: Millis) -> AsyncIterator[RateLimiter]:
    states = (
        MemoryStates()
        if request.param == "memory"
        else RedisStates.from_url(TEST_REDIS_URL, unique_prefix())
    )
    limiter = TokenBucketLimiter(states, clock)
    yield limiter
    await limiter.close()


async def test_a_full_bucket_admits_its_burst_then_refuses(limiter: RateLimiter) -> None:
    verdicts = [await limiter.hit("k", QUOTA) for _ in range(6)]

    assert [v.allowed for v in verdicts] == [True] * 5 + [False]
    assert [v.remaining for v in verdicts] == [4, 3, 2, 1, 0, 0]
    assert all(v.limit == 5 for v in verdicts)
    refused = verdicts[-1]
    assert refused.retry_after_ms == 100  # one token comes back after 100 ms
    assert refused.reset_ms == 500  # and all five after 500 ms


async def test_tokens_come_back_at_the_rate(limiter: RateLimiter, clock: Millis) -> None:
    for _ in range(5):
        await limiter.hit("k", QUOTA)

    clock.now += 99
    assert not (await limiter.hit("k", QUOTA)).allowed
    clock.now += 1
    assert (await limiter.hit("k", QUOTA)).allowed
    assert not (await limiter.hit("k", QUOTA)).allowed


async def test_an_idle_bucket_fills_up_to_its_burst_only(
    limiter: RateLimiter, clock: Millis
) -> None:
    await limiter.hit("k", QUOTA)
    clock.now += 60_000

    verdicts = [await limiter.hit("k", QUOTA) for _ in range(6)]

    assert [v.allowed for v in verdicts] == [True] * 5 + [False]


async def test_peek_takes_nothing(limiter: RateLimiter) -> None:
    for _ in range(4):
        await limiter.hit("k", QUOTA)

    for _ in range(3):
        peeked = await limiter.peek("k", QUOTA)
        assert peeked.allowed
        assert peeked.remaining == 1
    assert (await limiter.hit("k", QUOTA)).allowed
    assert not (await limiter.peek("k", QUOTA)).allowed


async def test_keys_are_counted_apart(limiter: RateLimiter) -> None:
    for _ in range(5):
        await limiter.hit("a", QUOTA)

    assert not (await limiter.hit("a", QUOTA)).allowed
    assert (await limiter.hit("b", QUOTA)).remaining == 4


async def test_concurrent_hits_never_take_more_than_the_burst(limiter: RateLimiter) -> None:
    verdicts = await asyncio.gather(*(limiter.hit("k", QUOTA) for _ in range(20)))

    assert sum(v.allowed for v in verdicts) == 5


async def test_another_quota_for_the_same_key_applies_at_once(limiter: RateLimiter) -> None:
    """A tenant raising its limit: the bucket's state stays, the new burst counts."""
    for _ in range(5):
        await limiter.hit("k", QUOTA)
    larger = Quota(rate=10, period_ms=1_000, burst=8)

    verdicts = [await limiter.hit("k", larger) for _ in range(4)]

    assert [v.allowed for v in verdicts] == [True, True, True, False]


async def test_redis_unreachable_is_reported_not_hidden(clock: Millis) -> None:
    # port 9 (discard) on loopback: nothing listens there
    limiter = TokenBucketLimiter(
        RedisStates.from_url("redis://127.0.0.1:9/0", unique_prefix(), timeout=0.2), clock
    )
    with pytest.raises(LimiterUnavailableError):
        await limiter.hit("k", QUOTA)
    with pytest.raises(LimiterUnavailableError):
        await limiter.peek("k", QUOTA)
    await limiter.close()


def test_a_quota_must_be_positive() -> None:
    for rate, period, burst in [(0, 1_000, 1), (1, 0, 1), (1, 1_000, 0), (-1, 1_000, 1)]:
        with pytest.raises(InvalidValueError):
            Quota(rate, period, burst)
