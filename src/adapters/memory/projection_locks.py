"""Projection locks within one process: enough for several runners in a test."""

from __future__ import annotations

from commerce_core.projections import Peers


class MemoryLease:
    def __init__(self, locks: MemoryProjectionLocks, key: str) -> None:
        self._locks = locks
        self._key = key
        self._released = False

    def held(self) -> bool:
        return not self._released

    async def release(self) -> None:
        if not self._released:
            self._released = True
            self._locks.held.discard(self._key)


class MemoryProjectionLocks:
    """Hands each key to one holder at a time, until that holder releases it."""

    def __init__(self) -> None:
        self.held: set[str] = set()

    async def try_acquire(self, key: str) -> MemoryLease | None:
        if key in self.held:
            return None
        self.held.add(key)
        return MemoryLease(self, key)

    async def peers(self) -> Peers:
        # runners of one process share its core: there is nothing to gain by sharing out
        return Peers()
