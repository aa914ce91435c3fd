"""When a failed delivery is tried again: exponential backoff with jitter, for up to
three days after the first attempt, then the delivery is ``failed``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(days=3)
DISABLE_AFTER = timedelta(days=5)
"""An endpoint whose deliveries have all failed for this long is disabled, with a notice."""


def backoff(attempts: int, jitter: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (1, 2, ...): doubling from
    ``FIRST_DELAY`` up to ``LONGEST_DELAY``, scaled by ``jitter`` in [0.5, 1.0] so that
    endpoints that failed together are not retried together."""
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    jitter = min(max(jitter, 0.5), 1.0)
    exponent = min(attempts - 1, 20)
    delay = min(FIRST_DELAY * (1 << exponent), LONGEST_DELAY)
    return delay * jitter


def next_attempt_at(
    first_attempt_at: datetime, attempts: int, now: datetime, jitter: Callable[[], float]
) -> datetime | None:
    """When to try again, or ``None`` when the next try would fall after three days."""
    at = now + backoff(attempts, jitter())
    return at if at - first_attempt_at <= GIVE_UP_AFTER else None
