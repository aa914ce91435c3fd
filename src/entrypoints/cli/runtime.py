"""What every command shares: the database URL, migrations, the container on a pool."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
from dependency_injector import providers

from commerce_core.projections.quarantine import NotHeldError
from commerce_core.projections.rebuild import NotStartedError, RebuildRunningError
from commerce_core.shared.errors import InvalidValueError
from entrypoints.container import Container, apply_migrations, build_container, open_pool
from entrypoints.projection_ops import UnknownProjectionError
from entrypoints.settings import get_settings

T = TypeVar("T")


def database_url() -> str:
    url = get_settings().database_url
    if not url:
        raise click.ClickException("DATABASE_URL is not set")
    return url


async def migrate_database(dsn: str) -> list[str]:
    return await apply_migrations(dsn, get_settings().database_schema)


async def with_container(
    work: Callable[[Container], Awaitable[T]],
    without_postgres: str = "these commands need PostgreSQL: unset EVENT_STORE=memory",
) -> T:
    """Runs ``work`` with the adapters of DATABASE_URL (and DATABASE_SCHEMA)."""
    settings = get_settings()
    database_url()
    container = build_container(settings)
    async with open_pool(settings) as pool:
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
