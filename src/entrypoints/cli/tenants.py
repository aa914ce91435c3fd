"""`commerce tenant create|limits` and `commerce key create|revoke`."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID

import click
import msgspec

from commerce_core.shared.errors import InvalidValueError
from commerce_core.tenancy.ports.tenants import (
    PLATFORM_SLUG,
    Grant,
    Role,
    TenantExistsError,
    TenantNotFoundError,
)
from commerce_core.tenancy.rate_limits import RouteClass, RouteLimit
from entrypoints.cli.runtime import database_url, with_container
from entrypoints.container import Container
from entrypoints.tenancy import (
    KeyRequestError,
    change_rate_limits,
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


def _route_limit(value: str) -> RouteLimit | None:
    if value == "default":
        return None
    per_second, _, burst = value.partition("/")
    try:
        return RouteLimit(per_second=int(per_second), burst=int(burst or per_second))
    except ValueError as error:  # InvalidValueError is a ValueError too
        raise click.BadParameter(f"{value!r}: use PER_SECOND/BURST or default") from error


def _per_minute(value: str) -> int | None:
    if value == "off":
        return None
    if not value.isdigit() or int(value) <= 0:
        raise click.BadParameter(f"{value!r}: use a positive number or off")
    return int(value)


@tenant.command("limits")
@click.argument("slug", metavar="TENANT")
@click.option("--reads", help="PER_SECOND/BURST for GET requests of each key, or default.")
@click.option("--writes", help="PER_SECOND/BURST for other requests, or default.")
@click.option("--payments", help="PER_SECOND/BURST for payment writes, or default.")
@click.option("--checkout-per-minute", help="POST /orders per customer and minute, or off.")
def tenant_limits(
    slug: str,
    reads: str | None,
    writes: str | None,
    payments: str | None,
    checkout_per_minute: str | None,
) -> None:
    """Change the rate limits of TENANT (slug or id; ADR 0022) and print them (JSON).

    Running servers apply them at once (PostgreSQL notifies them; ADR 0050), within
    API_KEY_CACHE_TTL seconds at worst.
    """
    database_url()
    given = {RouteClass.READS: reads, RouteClass.WRITES: writes, RouteClass.PAYMENTS: payments}
    changes: dict[str, object] = {
        kind.value: _route_limit(value) for kind, value in given.items() if value is not None
    }
    if checkout_per_minute is not None:
        changes["checkout_per_minute"] = _per_minute(checkout_per_minute)

    async def work(c: Container) -> object:
        limits = await change_rate_limits(c.tenants(), slug, changes)
        return msgspec.to_builtins(limits)

    try:
        click.echo(json.dumps(asyncio.run(with_container(work, TENANTS_NEED_POSTGRES))))
    except TenantNotFoundError as error:
        raise click.ClickException(f"no tenant {slug!r}") from error


@click.group()
def key() -> None:
    """API keys."""


@key.command("create")
@click.option(
    "--tenant", "slug", help=f"The tenant's slug or id (operator keys: {PLATFORM_SLUG!r})."
)
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
    """Revoke a key; running servers stop accepting it once notified (ADR 0050), within
    API_KEY_CACHE_TTL seconds at worst."""
    database_url()

    async def work(c: Container) -> bool:
        return await c.tenants().revoke_key(key_id, c.clock().now())

    if not asyncio.run(with_container(work, TENANTS_NEED_POSTGRES)):
        raise click.ClickException(f"no active key {key_id}")
    click.echo(json.dumps({"revoked": str(key_id)}))
