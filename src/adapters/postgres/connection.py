"""Connection pools for PostgreSQL, with the codecs and settings the adapters rely on."""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection = asyncpg.Connection | PoolConnectionProxy

# A transaction left open holds back every catch-up reader (see the event store
# ADR), so the server ends any that idles this long.
IDLE_IN_TRANSACTION_TIMEOUT = "30s"


def _jsonb_encode(data: bytes | str) -> bytes:
    # The binary jsonb format is a version byte followed by the JSON text.
    return b"\x01" + (data.encode() if isinstance(data, str) else data)


def _jsonb_decode(data: bytes) -> bytes:
    return data[1:]


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb travels as raw JSON bytes: msgspec encodes and decodes it, not asyncpg."""
    await conn.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_jsonb_encode,
        decoder=_jsonb_decode,
        format="binary",
    )


async def keep_session(conn: asyncpg.Connection) -> None:
    """Returns a connection to the pool as it is; asyncpg still rolls back an open transaction.

    asyncpg's default reset sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` on every release: one more round trip and server transaction per query. Our
    adapters leave no session state on pooled connections (``SET LOCAL``, transaction-level
    advisory locks; session locks live on a dedicated connection), so there is nothing to reset.
    """


def server_settings(schema: str | None = None) -> dict[str, str]:
    settings = {"idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT}
    if schema:
        settings["search_path"] = schema
    return settings


async def create_pool(
    dsn: str, *, schema: str | None = None, min_size: int = 2, max_size: int = 20, **kwargs: Any
) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=kwargs.pop("reset", keep_session),
        server_settings=server_settings(schema),
        **kwargs,
    )
    assert pool is not None
    return pool
