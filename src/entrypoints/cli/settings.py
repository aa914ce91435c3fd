"""`commerce tenant settings SLUG_OR_ID [--set key=value ...]`: a tenant's settings.

Without ``--set`` it prints them; with, it changes them through the same use case as
``PATCH /admin/settings``, recorded with the actor ``cli``. A value is read as JSON when
it is JSON (``45``, ``null``, ``["EUR","GBP"]``), else as text (``EUR``); a dotted key
names a nested field (``segment_rules.vip_min_orders=5``).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from commerce_core.shared.context import CommandContext
from commerce_core.tenancy.ports.tenants import TenantNotFoundError
from commerce_core.tenancy.settings_changes import (
    CLI_ACTOR,
    SettingsServices,
    SettingsView,
    change_settings,
    show_settings,
)
from commerce_core.tenancy.settings_patch import InvalidSettingError, admin_values, parse_patch
from entrypoints.cli.runtime import database_url, with_container
from entrypoints.cli.tenants import TENANTS_NEED_POSTGRES
from entrypoints.container import Container
from entrypoints.tenancy import find_tenant


def patch_of(assignments: tuple[str, ...]) -> dict[str, Any]:
    """``key=value`` pairs as a merge patch (dotted keys nest)."""
    patch: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, raw = assignment.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{assignment!r}: use key=value", param_hint="--set")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        *parents, leaf = key.split(".")
        target = patch
        for parent in parents:
            nested = target.setdefault(parent, {})
            if not isinstance(nested, dict):
                raise click.BadParameter(f"{key}: {parent} is set whole too", param_hint="--set")
            target = nested
        target[leaf] = value
    return patch


def _shown(view: SettingsView) -> dict[str, Any]:
    return {
        **admin_values(view.settings),
        "version": view.version,
        "updated_at": view.updated_at.isoformat() if view.updated_at else None,
        "updated_by": view.updated_by,
    }


@click.command("settings")
@click.argument("slug_or_id")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a setting (repeatable; dotted keys for segment_rules.*; null: the default).",
)
def tenant_settings(slug_or_id: str, assignments: tuple[str, ...]) -> None:
    """Print the tenant's settings (JSON); --set changes them, recorded as done by `cli`.

    An invalid value changes nothing and exits 1 with the reason. Running servers use a
    change from their next request."""
    database_url()
    patch = patch_of(assignments)

    async def work(c: Container) -> dict[str, Any]:
        services = SettingsServices(repo=c.repository(), tenants=c.tenants(), clock=c.clock())
        found = await find_tenant(services.tenants, slug_or_id)
        if not assignments:
            return _shown(await show_settings(services, found.id))
        ctx = CommandContext(tenant_id=str(found.id), actor=CLI_ACTOR)
        return _shown(await change_settings(services, ctx, parse_patch(patch)))

    try:
        click.echo(json.dumps(asyncio.run(with_container(work, TENANTS_NEED_POSTGRES))))
    except TenantNotFoundError as error:
        raise click.ClickException(f"no tenant {slug_or_id!r}") from error
    except InvalidSettingError as error:
        raise click.ClickException(str(error)) from error
