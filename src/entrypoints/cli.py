"""The `commerce` command line for operators."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import asyncpg
import click

from adapters.postgres.connection import server_settings
from adapters.postgres.migrate import migrate as apply_migrations
from entrypoints.settings import get_settings


@click.group()
def main() -> None:
    """commerce-core: event-sourced orders and payments."""


async def _migrate(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn, server_settings=server_settings())
    try:
        return await apply_migrations(conn)
    finally:
        await conn.close()


def _database_url() -> str:
    url = get_settings().database_url
    if not url:
        raise click.ClickException("DATABASE_URL is not set")
    return url


@main.command()
def migrate() -> None:
    """Apply pending SQL migrations to DATABASE_URL."""
    applied = asyncio.run(_migrate(_database_url()))
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


def _serve(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "entrypoints.http.asgi:app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        workers=workers,
        factory=True,
        log_access=False,
    ).serve()


@main.command()
@click.option("--host", default=None, help="Address to listen on (default HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default WORKERS or 1).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API on granian, against DATABASE_URL."""
    settings = get_settings()
    _database_url()
    _serve(host or settings.host, port or settings.port, workers or settings.workers)


@main.command()
def dev() -> None:
    """What `make run` does: embedded PostgreSQL unless DATABASE_URL is set, migrate, serve."""
    settings = get_settings()
    server = None
    url = settings.database_url
    if not url:
        from entrypoints.embedded_db import start_embedded_postgres

        click.echo(f"starting embedded PostgreSQL in {settings.data_dir / 'pgdata'} ...")
        server, url = start_embedded_postgres(settings.data_dir)
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
    try:
        applied = asyncio.run(_migrate(url))
        click.echo(f"database ready ({len(applied)} migration(s) applied)")
        click.echo(f"serving on http://{settings.host}:{settings.port}  (Ctrl-C stops)")
        sys.stdout.flush()
        _serve(settings.host, settings.port, settings.workers)
    finally:
        if server is not None:
            # ignore a second Ctrl-C while the database shuts down cleanly
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            click.echo("stopping embedded PostgreSQL ...")
            server.cleanup()
