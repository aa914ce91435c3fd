"""The other processes' changes of tenants and API keys, as PostgreSQL announces them.

Migration 0038's triggers NOTIFY ``commerce_tenancy`` with ``<schema>:<table>:<id>`` at
the commit of every change of a ``tenants`` or ``api_keys`` row; ``listen_for_changes``
holds one connection of its own LISTENing, and tells the cache to forget the tenant or
the key named (ADR 0050). While it is not listening (starting, reconnecting after the
connection was lost) a change may go unannounced: on every (re)connection the cache
forgets everything, and its TTL bounds what it may have missed in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import structlog

CHANNEL = "commerce_tenancy"
Connect = Callable[[], Awaitable[asyncpg.Connection]]

log = structlog.get_logger("tenancy_changes")


class Forgets(Protocol):
    def forget_tenant(self, tenant_id: UUID) -> None: ...

    def forget_key(self, key_hash: str) -> None: ...

    def forget_all(self) -> None: ...


def apply_change(cache: Forgets, payload: str, schema: str | None) -> None:
    """Forgets what ``payload`` names; a change in another schema is not ours."""
    changed_schema, _, rest = payload.partition(":")
    table, _, changed = rest.partition(":")
    if schema is not None and changed_schema != schema:
        return
    if table == "api_keys" and changed:
        cache.forget_key(changed)
        return
    try:
        cache.forget_tenant(UUID(changed))
    except ValueError:  # not a payload of ours: forget everything rather than guess
        cache.forget_all()


class TenancyListener:
    """LISTENs on ``commerce_tenancy`` until cancelled, reconnecting when the connection is
    lost; ``listening`` is set while it listens."""

    def __init__(
        self,
        connect: Connect,
        cache: Forgets,
        schema: str | None,
        *,
        retry_seconds: float = 1.0,
        ping_seconds: float = 10.0,
    ) -> None:
        self._connect = connect
        self._cache = cache
        self._schema = schema
        self._retry = retry_seconds
        self._ping = ping_seconds
        self.listening = asyncio.Event()
        self.backend_pid: int | None = None  # the listening session's, while it listens

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        apply_change(self._cache, str(payload), self._schema)

    async def run(self) -> None:
        while True:
            try:
                await self._listen_once()
            except Exception as error:  # whatever it was: listen again
                # (a listener that gave up would leave the cache to its TTL for good)
                log.warning("tenancy change listener lost its connection", error=repr(error))
            finally:
                self.listening.clear()
            await asyncio.sleep(self._retry)

    async def _listen_once(self) -> None:
        conn = await self._connect()
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())
        try:
            await conn.add_listener(CHANNEL, self._notified)
            self._cache.forget_all()  # what changed before we listened went unannounced
            self.backend_pid = conn.get_server_pid()
            self.listening.set()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._ping)
                if not lost.is_set():
                    # a connection that died silently raises here, within ping_seconds
                    await conn.execute("SELECT 1")
        finally:
            self.backend_pid = None
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)
