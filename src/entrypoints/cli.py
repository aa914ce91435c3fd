"""The `commerce` command line for operators."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import asyncpg
import click
from dependency_injector import providers

from adapters.postgres.connection import server_settings
from adapters.postgres.migrate import migrate as apply_migrations
from commerce_core.domain.errors import InvalidValueError
from commerce_core.ports.tenants import Role, TenantExistsError, TenantNotFoundError
from entrypoints.container import Container, build_container, open_pool
from entrypoints.settings import get_settings
from entrypoints.tenancy import create_tenant, demo_admin_key, issue_key_by_slug

T = TypeVar("T")


@click.group()
def main() -> None:
    """commerce-core: event-sourced orders and payments."""


async def _migrate(dsn: str) -> list[str]:
    schema = get_settings().database_schema
    conn = await asyncpg.connect(dsn, server_settings=server_settings(schema))
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


async def _with_container(work: Callable[[Container], Awaitable[T]]) -> T:
    """Runs ``work`` with the adapters of DATABASE_URL (and DATABASE_SCHEMA)."""
    settings = get_settings()
    container = build_container(settings)
    async with open_pool(settings) as pool:
        if pool is None:
            raise click.ClickException("tenants live in PostgreSQL: unset EVENT_STORE=memory")
        container.pool.override(providers.Object(pool))
        return await work(container)


@main.group()
def tenant() -> None:
    """Tenants."""


@tenant.command("create")
@click.argument("slug")
def tenant_create(slug: str) -> None:
    """Create tenant SLUG and print its id and a new admin API key (JSON)."""
    _database_url()

    async def work(c: Container) -> dict[str, str]:
        created, issued = await create_tenant(c.tenants(), slug, clock=c.clock(), ids=c.ids())
        key_id = str(issued.key.id)
        return {"tenant_id": str(created.id), "api_key": issued.secret, "key_id": key_id}

    try:
        click.echo(json.dumps(asyncio.run(_with_container(work))))
    except TenantExistsError as error:
        raise click.ClickException(f"tenant {slug!r} exists already") from error
    except InvalidValueError as error:
        raise click.BadParameter(str(error), param_hint="SLUG") from error


@main.group()
def key() -> None:
    """API keys."""


@key.command("create")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
def key_create(slug: str, role: str) -> None:
    """Print a new API key of a tenant (JSON); only its hash is stored."""
    _database_url()

    async def work(c: Container) -> dict[str, str]:
        issued = await issue_key_by_slug(
            c.tenants(), slug, Role(role), clock=c.clock(), ids=c.ids()
        )
        return {"api_key": issued.secret, "key_id": str(issued.key.id)}

    try:
        click.echo(json.dumps(asyncio.run(_with_container(work))))
    except TenantNotFoundError as error:
        raise click.ClickException(f"no tenant {slug!r}") from error


@key.command("revoke")
@click.argument("key_id", type=click.UUID)
def key_revoke(key_id: UUID) -> None:
    """Revoke a key; running servers stop accepting it within API_KEY_CACHE_TTL seconds."""
    _database_url()

    async def work(c: Container) -> bool:
        return await c.tenants().revoke_key(key_id, c.clock().now())

    if not asyncio.run(_with_container(work)):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(json.dumps({"revoked": str(key_id)}))


def _print_demo_key() -> None:
    if get_settings().event_store != "postgres":
        click.echo("no demo API key: with EVENT_STORE=memory tenants live in the server process")
        return

    async def work(c: Container) -> str:
        _, issued = await demo_admin_key(c.tenants(), clock=c.clock(), ids=c.ids())
        return issued.secret

    secret = asyncio.run(_with_container(work))
    click.echo(f"tenant 'demo' admin API key (a new one at every start): {secret}")


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


async def _run_worker() -> None:
    from contextlib import AsyncExitStack
    from types import SimpleNamespace

    from dependency_injector import providers

    from entrypoints.background import start_background_work
    from entrypoints.container import build_container, open_pool
    from entrypoints.logs import configure_logging
    from entrypoints.webhooks import build_webhooks

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    container = build_container(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_pool(settings) as pool, AsyncExitStack() as stack:
        container.pool.override(providers.Object(pool))
        resolver = container.gateway_resolver()
        stack.push_async_callback(resolver.close)
        state = SimpleNamespace(
            webhooks=build_webhooks(
                settings, container, pool, tenant_secret=resolver.webhook_secret
            )
        )
        await start_background_work(stack, state, settings, container, pool)
        await stop.wait()


@main.command()
def worker() -> None:
    """Run projections, webhook processing and payment jobs until stopped; run several."""
    _database_url()
    asyncio.run(_run_worker())


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
        _print_demo_key()
        click.echo(f"serving on http://{settings.host}:{settings.port}  (Ctrl-C stops)")
        sys.stdout.flush()
        _serve(settings.host, settings.port, settings.workers)
    finally:
        if server is not None:
            # ignore a second Ctrl-C while the database shuts down cleanly
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            click.echo("stopping embedded PostgreSQL ...")
            server.cleanup()


import entrypoints.cli_ops  # noqa: E402, F401  (registers replay, events, projections)
from entrypoints.jobs import jobs_cli  # noqa: E402

main.add_command(jobs_cli)
