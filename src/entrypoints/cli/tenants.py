"""`commerce tenant create` and `commerce key create|revoke`."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import click

from commerce_core.shared.errors import InvalidValueError
from commerce_core.tenancy.ports.tenants import Role, TenantExistsError, TenantNotFoundError
from entrypoints.cli.runtime import database_url, with_container
from entrypoints.container import Container
from entrypoints.tenancy import create_tenant, issue_key_by_slug

TENANTS_NEED_POSTGRES = "tenants live in PostgreSQL: unset EVENT_STORE=memory"


@click.group()
def tenant() -> None:
    """Tenants."""


@tenant.command("create")
@click.argument("slug")
def tenant_create(slug: str) -> None:
    """Create tenant SLUG and print its id and a new admin API key (JSON)."""
    database_url()

    async def work(c: Container) -> dict[str, str]:
        created, issued = await create_tenant(c.tenants(), slug, clock=c.clock(), ids=c.ids())
        key_id = str(issued.key.id)
        return {"tenant_id": str(created.id), "api_key": issued.secret, "key_id": key_id}

    try:
        click.echo(json.dumps(asyncio.run(with_container(work, TENANTS_NEED_POSTGRES))))
    except TenantExistsError as error:
        raise click.ClickException(f"tenant {slug!r} exists already") from error
    except InvalidValueError as error:
        raise click.BadParameter(str(error), param_hint="SLUG") from error


@click.group()
def key() -> None:
    """API keys."""


@key.command("create")
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
def key_create(slug: str, role: str) -> None:
    """Print a new API key of a tenant (JSON); only its hash is stored."""
    database_url()

    async def work(c: Container) -> dict[str, str]:
        issued = await issue_key_by_slug(
            c.tenants(), slug, Role(role), clock=c.clock(), ids=c.ids()
        )
        return {"api_key": issued.secret, "key_id": str(issued.key.id)}

    try:
        click.echo(json.dumps(asyncio.run(with_container(work, TENANTS_NEED_POSTGRES))))
    except TenantNotFoundError as error:
        raise click.ClickException(f"no tenant {slug!r}") from error


@key.command("revoke")
@click.argument("key_id", type=click.UUID)
def key_revoke(key_id: UUID) -> None:
    """Revoke a key; running servers stop accepting it within API_KEY_CACHE_TTL seconds."""
    database_url()

    async def work(c: Container) -> bool:
        return await c.tenants().revoke_key(key_id, c.clock().now())

    if not asyncio.run(with_container(work, TENANTS_NEED_POSTGRES)):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(json.dumps({"revoked": str(key_id)}))
