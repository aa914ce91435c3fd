"""What every command shares: the database URL, migrations, the container on a pool."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import click
from dependency_injector import providers

from commerce_core.projections.quarantine import NotHeldError
from commerce_core.projections.rebuild import NotStartedError, RebuildRunningError
from commerce_core.shared.errors import InvalidValueError
from entrypoints.container import Container, apply_migrations, build_container, open_pool
from entrypoints.projection_ops import UnknownProjectionError
from entrypoints.settings import get_settings

T = TypeVar("T")

NEEDS_POSTGRES = "these commands need PostgreSQL: unset EVENT_STORE=memory"

# what connecting raises when the server is down, unknown, refuses us or is starting
_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


class DatabaseUnreachableError(click.ClickException):
    """The database did not answer; the message names its URL without the password."""

    def __init__(self, url: str, error: BaseException) -> None:
        reason = str(error) or type(error).__name__
        super().__init__(f"cannot reach the database at {redact(url)}: {reason}")


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (kept out of messages and logs)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(an unreadable DATABASE_URL)"
    if not password:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def database_url() -> str:
    """DATABASE_URL, or else the URL of DATA_DIR's embedded PostgreSQL (ADR 0023): the
    running server of `make run`, or one started for this command and stopped after it.
    Either way DATABASE_URL is set from then on, for everything the command builds."""
    url = get_settings().database_url
    if url:
        return url
    if get_settings().event_store != "postgres":
        raise click.ClickException(NEEDS_POSTGRES)
    return _use_embedded_database()


def _use_embedded_database() -> str:
    from entrypoints.embedded_db import open_embedded_postgres, pgdata_of

    settings = get_settings()
    pgdata = pgdata_of(settings.data_dir)
    fresh = not (pgdata / "PG_VERSION").exists()
    database = open_embedded_postgres(settings.data_dir)
    context = click.get_current_context(silent=True)
    if context is not None:
        context.find_root().call_on_close(database.close)
    # without a click context (a test calling a command's code) the package's atexit stops it
    if fresh:
        click.echo(f"created the embedded PostgreSQL in {pgdata}", err=True)
    elif database.started:
        click.echo(f"no server on {pgdata}: started it for this command", err=True)
    os.environ["DATABASE_URL"] = database.url
    get_settings.cache_clear()
    # the schema `make run` would give it, so that a fresh clone's first command works too;
    # in a thread of its own, since async commands get here inside their event loop
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, migrate_database(database.url)).result()
    return database.url


async def migrate_database(dsn: str) -> list[str]:
    try:
        return await apply_migrations(dsn, get_settings().database_schema)
    except _UNREACHABLE as error:
        raise DatabaseUnreachableError(dsn, error) from error


async def with_container(
    work: Callable[[Container], Awaitable[T]], without_postgres: str = NEEDS_POSTGRES
) -> T:
    """Runs ``work`` with the adapters of DATABASE_URL (and DATABASE_SCHEMA)."""
    if get_settings().event_store != "postgres":
        raise click.ClickException(without_postgres)
    database_url()
    settings = get_settings()
    container = build_container(settings)
    async with AsyncExitStack() as stack:
        try:
            pool = await stack.enter_async_context(open_pool(settings))
        except _UNREACHABLE as error:
            raise DatabaseUnreachableError(settings.database_url or "", error) from error
        if pool is None:
            raise click.ClickException(without_postgres)
        container.pool.override(providers.Object(pool))
        return await work(container)


def run_ops(work: Callable[[Container], Awaitable[T]]) -> T:
    """``with_container`` for the operators' commands, their errors as usage errors."""
    try:
        return asyncio.run(with_container(work))
    except (UnknownProjectionError, NotHeldError, NotStartedError, RebuildRunningError) as error:
        raise click.ClickException(str(error.args[0] if error.args else error)) from error
    except InvalidValueError as error:
        raise click.UsageError(str(error)) from error
