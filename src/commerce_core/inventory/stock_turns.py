"""Writers of one SKU's stock take turns within a process (ADR 0046).

A stock item is one stream: every hold and every take of its SKU appends to it with
the version it read. When many requests of one process hold the same SKU at once
(a flash sale), all but one lose the append and load, decide and append again, so
the work grows with the square of the buyers and the last ones run out of attempts.
Taking turns makes them queue instead: each reads the item after the one before it
saved, so its append does not lose in this process. Other processes still race
optimistically (their conflicts are retried, and rare: one writer per process at a
time), and correctness never depends on the turns, only speed does.

Turns are per tenant and SKU (known before the item is loaded), taken in sorted
order so two requests with overlapping SKUs cannot wait for each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

T = TypeVar("T")

_Key = tuple[str, str]


class StockTurns:
    """One lock per (tenant, SKU) while anyone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[_Key, asyncio.Lock] = {}
        self._users: dict[_Key, int] = {}

    @asynccontextmanager
    async def turn(self, tenant_id: str, skus: Iterable[str]) -> AsyncIterator[None]:
        """Waits for the turn of every SKU in ``skus``, holds them for the block."""
        keys = sorted({(tenant_id, sku) for sku in skus})
        async with AsyncExitStack() as stack:
            for key in keys:
                await stack.enter_async_context(self._one(key))
            yield

    @asynccontextmanager
    async def _one(self, key: _Key) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:  # nobody holds or waits: forget it (bounded memory)
                del self._users[key]
                del self._locks[key]

    def waiting(self) -> int:
        """SKUs someone holds or waits for (tests check that turns are forgotten)."""
        return len(self._locks)


STOCK_TURNS = StockTurns()
"""The process's turns: module-level, since every request of the process shares them."""


def in_turn(
    tenant_id: str, skus: Iterable[str], command: Callable[[], Awaitable[T]]
) -> Callable[[], Awaitable[T]]:
    """``command`` run in the turn of ``skus`` (give it to ``retry_on_conflict``: each
    attempt waits for its turn, loads, decides and saves, then lets the next one in)."""
    wanted = list(skus)

    async def run() -> T:
        async with STOCK_TURNS.turn(tenant_id, wanted):
            return await command()

    return run
