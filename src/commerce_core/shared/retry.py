"""Retrying a command that lost an optimistic-concurrency race."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from commerce_core.eventstore import ConcurrencyError

T = TypeVar("T")

DECISION_ATTEMPTS = 12
"""Attempts for a decision that calls nothing outside (an intent, before its call): many
concurrent requests on one order or payment each get their turn or a clear refusal."""


async def retry_on_conflict(command: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """Runs ``command`` again (reloading its aggregates) when another writer got there first.

    The command must load what it changes inside ``command`` so each attempt sees fresh state.
    After ``attempts`` conflicts the last ``ConcurrencyError`` propagates.
    """
    for _ in range(attempts - 1):
        try:
            return await command()
        except ConcurrencyError:
            continue
    return await command()
