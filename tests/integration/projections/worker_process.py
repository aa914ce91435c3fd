"""`commerce worker` as a child process, and what a test sees of it in the database.

Each worker's connections carry its name as ``application_name`` (a DSN
parameter), so ``pg_stat_activity`` and ``pg_locks`` tell which process holds a
projection's advisory lock and what each process last asked the server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg

from commerce_core.eventstore import START, Position
from tests.conftest import PgSchema

COMMERCE = str(Path(sys.executable).with_name("commerce"))
POLL = 0.005  # seconds between looks at the database while waiting for a condition
STOP_WITHIN = 10  # seconds a worker may take to stop after SIGTERM


def _named(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    query = "&".join(q for q in (parts.query, urlencode({"application_name": name})) if q)
    return urlunsplit(parts._replace(query=query))


class Worker:
    """One `commerce worker` process on a test's schema; its output goes to ``log``.

    ``app`` is its connections' ``application_name``: the schema and its name, so
    tests running at the same time on the same server never see each other's.
    """

    def __init__(self, app: str, process: asyncio.subprocess.Process, log: Path) -> None:
        self.app = app
        self.process = process
        self.log = log

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a machine or container dies."""
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, as an orchestrator stops it; returns its exit code."""
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_WITHIN):
            return await self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Workers(AbstractAsyncContextManager["Workers"]):
    """Starts workers on ``schema``; on exit kills any still running."""

    def __init__(self, schema: PgSchema, log_dir: Path) -> None:
        self._schema = schema
        self._log_dir = log_dir
        self._started: list[Worker] = []

    async def start(self, name: str) -> Worker:
        log = self._log_dir / f"{name}.log"
        app = f"{self._schema.name}-{name}"
        env = {
            **os.environ,
            "DATABASE_URL": _named(self._schema.dsn, app),
            "DATABASE_SCHEMA": self._schema.name,
            # these tests watch projection work alone: no webhook processing or payment jobs
            "BACKGROUND_WORK": "projections",
            "EVENT_STORE": "postgres",
            "DB_POOL_MIN": "1",
            "LOG_LEVEL": "info",
        }
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                COMMERCE, "worker", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
            )
        worker = Worker(app, process, log)
        self._started.append(worker)
        return worker

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for worker in self._started:
            if worker.process.returncode is None:
                await worker.kill()


async def wait_until(check: Callable[[], Awaitable[bool]], *, within: float, what: str) -> None:
    """Polls ``check`` (the state lives in other processes) until it is true, or fails the
    test after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while True:
                if await check():
                    return
                await asyncio.sleep(POLL)
    except TimeoutError:
        raise AssertionError(f"not within {within} s: {what}") from None


async def checkpoints(conn: asyncpg.Pool | asyncpg.Connection, keys: list[str]) -> list[Position]:
    """The checkpoint of each projection version in ``keys`` (``START`` if not created yet)."""
    rows = await conn.fetch(
        "SELECT name || ':v' || version, tx_id, global_position FROM projection_checkpoints"
    )
    found = {row[0]: Position(row[1], row[2]) for row in rows}
    return [found.get(key, START) for key in keys]


_HOLDERS = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.objid::bigint = (hashtext($1)::bigint & 4294967295)
"""


async def lock_holders(
    conn: asyncpg.Pool | asyncpg.Connection, schema: str, keys: list[str]
) -> list[list[str]]:
    """For each projection version in ``keys``: the workers (``app``) holding its lock.

    The key is the runner's, ``hashtext(schema || '.' || key)`` (see
    ``adapters.postgres.projection_locks``).
    """
    return [sorted(row[0] for row in await conn.fetch(_HOLDERS, f"{schema}.{key}")) for key in keys]


async def last_queries(conn: asyncpg.Pool | asyncpg.Connection, app: str) -> list[str]:
    """What each connection of the worker with this ``app`` name is running or last ran."""
    rows = await conn.fetch("SELECT query FROM pg_stat_activity WHERE application_name = $1", app)
    return [row[0] for row in rows]
