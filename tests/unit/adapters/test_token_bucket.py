"""Properties of the token-bucket limiter, on a hand-moved clock (memory states)."""

from __future__ import annotations

import asyncio
from math import ceil

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.ratelimit.limiter import TokenBucketLimiter
from adapters.ratelimit.states import MemoryStates
from commerce_core.shared.ports.rate_limits import Quota

START_MS = 1_780_000_000_000

quotas = st.builds(
    Quota,
    rate=st.integers(1, 200),
    period_ms=st.sampled_from([1_000, 10_000, 60_000]),
    burst=st.integers(1, 30),
)
gaps = st.lists(st.integers(0, 400), min_size=1, max_size=80)


def run(quota: Quota, gaps_ms: list[int]) -> list[tuple[int, bool, int]]:
    """Hits one key at the given gaps; (time, allowed, retry_after_ms) for each."""
    now = [START_MS]
    limiter = TokenBucketLimiter(MemoryStates(), lambda: now[0])

    async def go() -> list[tuple[int, bool, int]]:
        seen = []
        for gap in gaps_ms:
            now[0] += gap
            verdict = await limiter.hit("k", quota)
            seen.append((now[0], verdict.allowed, verdict.retry_after_ms))
        return seen

    return asyncio.run(go())


@settings(max_examples=200, deadline=None)
@given(quotas, gaps)
def test_no_window_admits_more_than_the_burst_plus_what_refilled(
    quota: Quota, gaps_ms: list[int]
) -> None:
    admitted = [t for t, allowed, _ in run(quota, gaps_ms) if allowed]
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            refilled = ceil((admitted[j] - start) * quota.rate / quota.period_ms)
            assert j - i + 1 <= quota.burst + refilled


@settings(max_examples=200, deadline=None)
@given(quotas, gaps)
def test_a_refusal_names_a_wait_after_which_a_request_is_admitted(
    quota: Quota, gaps_ms: list[int]
) -> None:
    now = [START_MS]
    limiter = TokenBucketLimiter(MemoryStates(), lambda: now[0])

    async def go() -> None:
        for gap in gaps_ms:
            now[0] += gap
            verdict = await limiter.hit("k", quota)
            if verdict.allowed:
                assert verdict.retry_after_ms == 0
                continue
            assert verdict.retry_after_ms > 0
            now[0] += verdict.retry_after_ms
            assert (await limiter.peek("k", quota)).allowed

    asyncio.run(go())


@settings(max_examples=100, deadline=None)
@given(quotas)
def test_a_rested_bucket_admits_exactly_its_burst(quota: Quota) -> None:
    outcomes = [allowed for _, allowed, _ in run(quota, [0] * (quota.burst + 3))]

    assert outcomes == [True] * quota.burst + [False] * 3


def test_memory_states_forget_the_least_recently_used_key_first() -> None:
    states = MemoryStates(max_keys=2)
    a, b = states.store("a"), states.store("b")
    assert states.store("a") is a  # "a" is now the most recently used
    states.store("c")

    assert states.store("a") is a
    assert states.store("b") is not b
