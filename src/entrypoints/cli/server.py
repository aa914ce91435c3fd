"""`commerce migrate|serve|worker|dev`: the database schema and the running service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import click
from dependency_injector import providers

from entrypoints.cli.runtime import database_url, migrate_database, redact, with_container
from entrypoints.cli.tenants import TENANTS_NEED_POSTGRES
from entrypoints.container import Container, build_container, open_pool
from entrypoints.settings import get_settings
from entrypoints.tenancy import demo_admin_key


@click.command()
def migrate() -> None:
    """Apply pending SQL migrations to DATABASE_URL."""
    applied = asyncio.run(migrate_database(database_url()))
    click.echo(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")


def _print_demo_key() -> None:
    if get_settings().event_store != "postgres":
        click.echo("no demo API key: with EVENT_STORE=memory tenants live in the server process")
        return

    async def work(c: Container) -> str:
        _, issued = await demo_admin_key(c.tenants(), clock=c.clock(), ids=c.ids())
        return issued.secret

    secret = asyncio.run(with_container(work, TENANTS_NEED_POSTGRES))
    click.echo(f"tenant 'demo' admin API key (a new one at every start): {secret}")


def _serve(host: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    from entrypoints.logs import granian_log_config

    settings = get_settings()
    Granian(
        "entrypoints.http.asgi:app",
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,  # ADR 0052; granian's "auto" would fall back to asyncio silently
        workers=workers,
        # a worker that does not stop in time is killed, so the server always ends: granian
        # loses a SIGTERM that reaches a worker before it serves (issue 17, fourth pass)
        workers_kill_timeout=settings.worker_stop_timeout,
        # a worker that dies (killed, out of memory) is replaced instead of the whole server
        # stopping; granian gives up if a replacement dies within 5.5 s (a crash loop)
        respawn_failed_workers=True,
        factory=True,
        log_access=False,
        log_dictconfig=granian_log_config(settings.log_format),
    ).serve()


@click.command()
@click.option("--host", default=None, help="Address to listen on (default HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PORT or 8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default WORKERS or 1).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the HTTP API on granian, against DATABASE_URL (or DATA_DIR's embedded one)."""
    database_url()
    settings = get_settings()
    _serve(host or settings.host, port or settings.port, workers or settings.workers)


async def _run_worker() -> None:
    from contextlib import AsyncExitStack
    from types import SimpleNamespace

    from entrypoints.background import start_background_work
    from entrypoints.logs import configure_logging, log_started
    from entrypoints.webhooks import build_webhooks

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    log_started("worker")
    container = build_container(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_pool(settings) as pool, AsyncExitStack() as stack:
        container.pool.override(providers.Object(pool))
        resolver = container.gateway_resolver()
        stack.push_async_callback(resolver.close)
        stack.push_async_callback(container.carriers().close)
        stack.push_async_callback(container.pos_resolver().close)
        state = SimpleNamespace(
            webhooks=build_webhooks(container, tenant_secret=resolver.webhook_secret)
        )
        await start_background_work(stack, state, settings, container, pool)
        await stop.wait()


@click.command()
def worker() -> None:
    """Run projections, webhook processing and payment jobs until stopped; run several."""
    import uvloop

    database_url()
    uvloop.run(_run_worker())


@click.command()
def dev() -> None:
    """What `make run` does: embedded PostgreSQL unless DATABASE_URL is set, migrate, serve."""
    settings = get_settings()
    server = None
    url = settings.database_url
    if not url:
        from entrypoints.embedded_db import open_embedded_postgres, pgdata_of

        click.echo(f"starting embedded PostgreSQL in {pgdata_of(settings.data_dir)} ...")
        server = open_embedded_postgres(settings.data_dir)
        url = server.url
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
    try:
        applied = asyncio.run(migrate_database(url))
        click.echo(f"database ready ({len(applied)} migration(s) applied): {redact(url)}")
        if server is not None:
            click.echo(
                "  commands in another terminal (`.venv/bin/commerce ...`, from this folder)"
                " use it with nothing set"
            )
        _print_demo_key()
        click.echo(f"serving on http://{settings.host}:{settings.port}  (Ctrl-C stops)")
        sys.stdout.flush()
        _serve(settings.host, settings.port, settings.workers)
    finally:
        if server is not None:
            # ignore a second Ctrl-C while the database shuts down cleanly
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            click.echo("stopping embedded PostgreSQL ...")
            server.close()
