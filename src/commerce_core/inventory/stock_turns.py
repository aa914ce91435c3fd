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

While a SKU's turn is held or waited for, the items its holders loaded and saved are
kept here, so the next holder starts from them instead of reading them again: a turn
costs fewer round trips, which is what limits a hot SKU's rate. They are kept only
when every change to them was saved (no pending events); a turn that ends in an error
other than a refusal for want of stock forgets them; and if another process wrote
meanwhile, the next append loses its race, the turn forgets them and the retry reads
the item afresh. When nobody holds or waits,
the SKU is forgotten entirely, so nothing is kept across quiet periods.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from commerce_core.inventory.stock import InsufficientStockError

if TYPE_CHECKING:
    from commerce_core.inventory.stock import StockItem

T = TypeVar("T")

_Key = tuple[str, str]

_REMEMBERED = 10_000
"""SKUs whose last turn's end is remembered (``written_since``), the most recent ones."""

_held: ContextVar[tuple[object, frozenset[_Key]]] = ContextVar(
    "stock_turns_held", default=(None, frozenset())
)
"""The turns the current task holds, with that task: a task started inside a turn inherits
the variable but not the turn, so it must not see the kept items."""


def _holds(key: _Key) -> bool:
    owner, keys = _held.get()
    return key in keys and owner is asyncio.current_task()


class StockTurns:
    """One lock per (tenant, SKU) while anyone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[_Key, asyncio.Lock] = {}
        self._users: dict[_Key, int] = {}
        self._items: dict[_Key, list[StockItem]] = {}
        self._ends = 0  # turns ended so far
        self._last_end: OrderedDict[_Key, int] = OrderedDict()  # the SKU's last, by ``_ends``
        self._forgotten_up_to = 0  # the latest end dropped from ``_last_end``

    @asynccontextmanager
    async def turn(self, tenant_id: str, skus: Iterable[str]) -> AsyncIterator[None]:
        """Waits for the turn of every SKU in ``skus``, holds them for the block."""
        keys = sorted({(tenant_id, sku) for sku in skus})
        async with AsyncExitStack() as stack:
            for key in keys:
                await stack.enter_async_context(self._one(key))
            owner, held = _held.get()
            task = asyncio.current_task()
            token = _held.set((task, (held if owner is task else frozenset()) | frozenset(keys)))
            try:
                yield
            except InsufficientStockError:
                # a refusal decided on the kept items, which it did not change (a line held
                # before the refusal left pending events, and ``finally`` forgets those):
                # the next buyer starts from them instead of a read older than the turn
                raise
            except BaseException:
                self._forget(keys)
                raise
            finally:
                _held.reset(token)
                self._ended(keys)
                self._forget([k for k in keys if _unsaved(self._items.get(k, []))])

    def kept(self, tenant_id: str, sku: str) -> list[StockItem] | None:
        """The SKU's items as the last holder of its turn left them, if this task holds
        the turn and they are kept."""
        key = (tenant_id, sku)
        return self._items.get(key) if _holds(key) else None

    def keep(self, tenant_id: str, sku: str, items: list[StockItem]) -> None:
        """Keeps the SKU's items, as loaded by this task in its turn, for the next holder."""
        key = (tenant_id, sku)
        if _holds(key):
            self._items[key] = items

    def forget_kept(self, tenant_id: str, sku: str) -> None:
        """Drops the SKU's kept items (a writer that does not go through ``load_stock``)."""
        self._items.pop((tenant_id, sku), None)

    def _forget(self, keys: Iterable[_Key]) -> None:
        for key in keys:
            self._items.pop(key, None)

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
                self._items.pop(key, None)

    def mark(self) -> int:
        """Where the process's turns are now: ``written_since`` tells later whether a turn
        of some SKUs ended after this (a copy of their items read here may be stale)."""
        return self._ends

    def written_since(self, tenant_id: str, skus: Iterable[str], mark: int) -> bool:
        """A turn of any of ``skus`` ended in this process since ``mark`` (so its holder may
        have written the items). Writers in other processes, or outside turns, are not seen:
        a copy this calls current can still lose its append, and is then read again."""
        for sku in skus:
            ended = self._last_end.get((tenant_id, sku))
            if (ended is None and mark < self._forgotten_up_to) or (ended or 0) > mark:
                return True
        return False

    def _ended(self, keys: Iterable[_Key]) -> None:
        self._ends += 1
        for key in keys:
            self._last_end[key] = self._ends
            self._last_end.move_to_end(key)
        while len(self._last_end) > _REMEMBERED:  # bounded: forget the oldest, conservatively
            _, ended = self._last_end.popitem(last=False)
            self._forgotten_up_to = max(self._forgotten_up_to, ended)

    def waiting(self) -> int:
        """SKUs someone holds or waits for (tests check that turns are forgotten)."""
        return len(self._locks)


def _unsaved(items: list[StockItem]) -> bool:
    return any(item.pending_events for item in items)


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
