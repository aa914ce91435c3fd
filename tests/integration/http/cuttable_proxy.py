"""A TCP proxy in the test process, in front of PostgreSQL, that a test can cut.

``cut()`` stops listening (new connections are refused) and drops every open one;
``restore()`` listens again on the same port; ``drop_next_query()`` lets connections be
but drops the next one that sends anything, so a query dies in the middle of a request.
Nothing sleeps: each step waits on the sockets themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit, urlunsplit

CHUNK = 65536


class CuttableProxy:
    def __init__(self, upstream_dsn: str) -> None:
        parts = urlsplit(upstream_dsn)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._dsn = parts
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._drop_next = False
        self.port = 0

    @property
    def dsn(self) -> str:
        """The upstream DSN with the proxy's address instead."""
        user = f"{self._dsn.username}@" if self._dsn.username else ""
        netloc = f"{user}127.0.0.1:{self.port}"
        return urlunsplit(self._dsn._replace(netloc=netloc))

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """PostgreSQL is gone: refused from now on, open connections dropped."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        self._abort_all()

    async def restore(self) -> None:
        await self.start()

    def drop_next_query(self) -> None:
        self._drop_next = True

    async def close(self) -> None:
        if self._server is not None:
            await self.cut()

    def _abort_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_w.transport.abort()
            return
        self._writers |= {client_w, server_w}
        await asyncio.gather(
            self._pump(client_r, server_w, (client_w, server_w), queries=True),
            self._pump(server_r, client_w, (client_w, server_w), queries=False),
        )

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        both: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        *,
        queries: bool,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await source.read(CHUNK):
                if queries and self._drop_next:
                    self._drop_next = False
                    break
                sink.write(chunk)
                await sink.drain()
        for writer in both:
            writer.transport.abort()
            self._writers.discard(writer)
