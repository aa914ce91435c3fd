"""`commerce tenant create` and `commerce key create|revoke`."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import click

from commerce_core.shared.errors import InvalidValueError
from commerce_core.tenancy.ports.tenants import (
    PLATFORM_SLUG,
    Grant,
    Role,
    TenantExistsError,
    TenantNotFoundError,
)
from entrypoints.cli.runtime import database_url, with_container
from entrypoints.container import Container
from entrypoints.tenancy import (
    KeyRequestError,
    create_tenant,
    issue_key_by_slug,
    issue_operator_key,
)

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
@click.option("--tenant", "slug", help=f"The tenant's slug (operator keys: {PLATFORM_SLUG!r}).")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option(
    "--grant",
    "grants",
    multiple=True,
    type=click.Choice([g.value for g in Grant]),
    help="What a service key may do beyond its role (refunds); repeatable.",
)
def key_create(slug: str | None, role: str, grants: tuple[str, ...]) -> None:
    """Print a new API key of a tenant (JSON); only its hash is stored.

    An operator key (``--role operator``) belongs to the platform's own tenant, made on
    first use; it acts on the operator routes only (the README's role matrix)."""
    database_url()
    wanted = Role(role)
    if slug is None and wanted is not Role.OPERATOR:
        raise click.UsageError("--tenant is needed for every role but operator")

    async def work(c: Container) -> dict[str, str]:
        tenants, clock, ids = c.tenants(), c.clock(), c.ids()
        if slug is None or (wanted is Role.OPERATOR and slug == PLATFORM_SLUG):
            issued = await issue_operator_key(tenants, clock=clock, ids=ids)
        else:
            issued = await issue_key_by_slug(
                tenants, slug, wanted, clock=clock, ids=ids, grants=frozenset(map(Grant, grants))
            )
        return {"api_key": issued.secret, "key_id": str(issued.key.id)}

    try:
        click.echo(json.dumps(asyncio.run(with_container(work, TENANTS_NEED_POSTGRES))))
    except TenantNotFoundError as error:
        raise click.ClickException(f"no tenant {slug!r}") from error
    except KeyRequestError as error:
        raise click.UsageError(str(error)) from error


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
