"""PostgreSQL for the process: its pool, connections of their own, and migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

import asyncpg

from adapters.postgres.connection import create_pool, server_settings
from adapters.postgres.migrate import migrate
from entrypoints.settings import Settings

Connect = Callable[[], Awaitable[asyncpg.Connection]]


@asynccontextmanager
async def open_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool | None]:
    """The database pool for the process's lifetime (None with the memory event store)."""
    if settings.event_store != "postgres":
        yield None
        return
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (make run starts an embedded PostgreSQL)")
    pool = await create_pool(
        settings.database_url,
        schema=settings.database_schema,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
    )
    try:
        yield pool
    finally:
        await pool.close()


def connector(settings: Settings) -> Connect:
    """New connections outside the pool, for work that holds a session (advisory locks)."""
    assert settings.database_url
    return partial(
        asyncpg.connect,
        settings.database_url,
        server_settings=server_settings(settings.database_schema),
    )


async def apply_migrations(dsn: str, schema: str | None) -> list[str]:
    """Applies the pending SQL migrations; returns the names of those applied."""
    conn = await asyncpg.connect(dsn, server_settings=server_settings(schema))
    try:
        return await migrate(conn)
    finally:
        await conn.close()
