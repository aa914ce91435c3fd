"""Applies the SQL files in ``migrations/`` in name order, each once."""

from __future__ import annotations

from importlib import resources

from adapters.postgres.connection import Connection

_MIGRATIONS_LOCK = 0x636F6D6D  # an advisory lock taken only by migrators, never by appends


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("adapters.postgres") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in files]


async def migrate(conn: Connection) -> list[str]:
    """Applies pending migrations; returns the names of those applied now."""
    applied_now = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATIONS_LOCK)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for name, sql in migration_files():
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied_now.append(name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATIONS_LOCK)
    return applied_now
