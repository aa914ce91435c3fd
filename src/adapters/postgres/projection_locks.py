"""Projection locks as PostgreSQL session-level advisory locks on one dedicated connection.

A runner process holds the locks of the projections it runs on one connection of
its own (not a pooled one). If the process dies or the connection drops, the
server releases them at once and a standby runner takes over.

A runner also holds a shared lock on one key of its schema while it runs: the
holders of that key, oldest connection first, are the runners sharing the
projections out (``peers``, ADR 0054).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg

from commerce_core.projections import Peers

# First key of every projection lock; two-key advisory locks never collide with
# one-key locks such as the migrator's.
_LOCK_CLASS = 0x70726A6C
# The schema is part of the key: runs in different schemas are different read models.
_KEY = "hashtext(current_schema() || '.' || $2)"
# First key of the runners' presence: a class of its own, so that no projection's key
# can meet it.
_RUNNERS_CLASS = 0x70726A72
_RUNNERS_KEY = "hashtext(current_schema() || '.runners')"
_JOIN = f"SELECT pg_try_advisory_lock_shared($1, {_RUNNERS_KEY})"
# The sessions holding the presence key in this database, oldest first (a runner's
# connection lives as long as it runs: the first to come stays first).
_PRESENT = f"""
SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $1::int::oid AND l.objid = {_RUNNERS_KEY}::oid
ORDER BY a.backend_start NULLS LAST, l.pid
"""


class AdvisoryLease:
    """One held lock; lost as soon as its connection closes."""

    def __init__(self, locks: PostgresProjectionLocks, conn: asyncpg.Connection, key: str) -> None:
        self._locks = locks
        self._conn = conn
        self.key = key

    def held(self) -> bool:
        return self._locks.holds(self._conn, self.key)

    async def release(self) -> None:
        await self._locks.release(self._conn, self.key)


class PostgresProjectionLocks:
    """``pg_try_advisory_lock`` per projection version, on a connection from ``connect``."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]]) -> None:
        self._connect = connect
        self._conn: asyncpg.Connection | None = None
        self._held: set[str] = set()
        self._present = False  # holds the presence key on the current connection
        self._guard = asyncio.Lock()  # one query at a time on the connection

    @property
    def pid(self) -> int | None:
        """The server process holding the locks (for operators: ``pg_terminate_backend``)."""
        return self._conn.get_server_pid() if self._conn is not None else None

    async def try_acquire(self, key: str) -> AdvisoryLease | None:
        async with self._guard:
            conn = await self._connection()
            if key in self._held:
                return None  # held by another runner of this process
            taken = await conn.fetchval(
                f"SELECT pg_try_advisory_lock($1, {_KEY})", _LOCK_CLASS, key
            )
            if not taken:
                return None
            self._held.add(key)
            return AdvisoryLease(self, conn, key)

    async def peers(self) -> Peers:
        async with self._guard:
            conn = await self._connection()
            if not self._present:
                self._present = bool(await conn.fetchval(_JOIN, _RUNNERS_CLASS))
            pids = [row["pid"] for row in await conn.fetch(_PRESENT, _RUNNERS_CLASS)]
        mine = conn.get_server_pid()
        if mine not in pids:  # not visible to itself: as if alone, so nothing is left out
            return Peers()
        return Peers(pids.index(mine), len(pids))

    def holds(self, conn: asyncpg.Connection, key: str) -> bool:
        return conn is self._conn and not conn.is_closed() and key in self._held

    async def release(self, conn: asyncpg.Connection, key: str) -> None:
        async with self._guard:
            if not self.holds(conn, key):
                return
            self._held.discard(key)
            await conn.fetchval(f"SELECT pg_advisory_unlock($1, {_KEY})", _LOCK_CLASS, key)

    async def close(self) -> None:
        """Closes the connection, releasing every lock it holds."""
        async with self._guard:
            if self._conn is not None:
                await self._conn.close()
            self._conn = None
            self._held.clear()
            self._present = False

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            # the old connection's locks went with it
            self._held.clear()
            self._present = False
            self._conn = await self._connect()
        return self._conn
