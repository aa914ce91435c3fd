"""``RateLimiter`` on pyrate-limiter's GCRA: a token bucket kept as one timestamp per key.

GCRA keeps the bucket's "theoretical arrival time" (TAT, in microseconds): the moment
it would be full again. A request is admitted while the TAT stays within ``burst``
emission intervals of now, and pushes it one interval further (see ADR 0022).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from math import ceil
from typing import TypeVar

from pyrate_limiter import GCRA, Decision, Rate

from adapters.ratelimit.states import States
from commerce_core.shared.ports.rate_limits import LimiterUnavailableError, Quota, Verdict

T = TypeVar("T")
_GCRA = GCRA()


async def _settled(value: T | Awaitable[T]) -> T:
    """pyrate's stores answer directly (memory) or with an awaitable (async Redis)."""
    if isawaitable(value):
        return await value
    return value


def _rates(quota: Quota) -> list[Rate]:
    return [Rate(quota.rate, quota.period_ms, burst=quota.burst)]


def _verdict(quota: Quota, tat_us: int, now_ms: int, decision: Decision) -> Verdict:
    reset_ms = max(0, ceil((tat_us - now_ms * 1000) / 1000))
    owed = ceil(reset_ms * quota.rate / quota.period_ms)
    retry_after_ms = 0
    if not decision.allowed:
        one_token_ms = ceil(quota.period_ms / quota.rate)
        retry_after_ms = max(1, decision.retry_after_ms or one_token_ms)
    return Verdict(
        allowed=decision.allowed,
        limit=quota.burst,
        remaining=max(0, quota.burst - owed),
        reset_ms=reset_ms,
        retry_after_ms=retry_after_ms,
    )


class TokenBucketLimiter:
    """A ``RateLimiter``; ``now_ms`` is the wall clock in milliseconds (shared state
    needs one clock for every node; tests pass their own)."""

    def __init__(self, states: States, now_ms: Callable[[], int]) -> None:
        self._states = states
        self._now_ms = now_ms

    async def hit(self, key: str, quota: Quota) -> Verdict:
        rates, now = _rates(quota), self._now_ms()
        store = self._states.store(key)
        try:
            decision = await _settled(store.check(_GCRA, rates, now, 1))
            state = await _settled(store.read(_GCRA, rates))
        except self._states.errors as error:
            raise LimiterUnavailableError(str(error)) from error
        return _verdict(quota, int(state[0]), now, decision)

    async def peek(self, key: str, quota: Quota) -> Verdict:
        rates, now = _rates(quota), self._now_ms()
        try:
            state = await _settled(self._states.store(key).read(_GCRA, rates))
        except self._states.errors as error:
            raise LimiterUnavailableError(str(error)) from error
        _, decision = _GCRA.step(rates, state, now, 1)
        return _verdict(quota, int(state[0]), now, decision)

    async def close(self) -> None:
        await self._states.close()
