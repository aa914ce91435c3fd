"""The operator's command line, `commerce`: one module per group of commands."""

from __future__ import annotations

import click

from entrypoints.cli.customers import customers
from entrypoints.cli.investigations import events, replay
from entrypoints.cli.projections import projections
from entrypoints.cli.server import dev, migrate, serve, worker
from entrypoints.cli.settings import tenant_settings
from entrypoints.cli.tenants import key, tenant
from entrypoints.jobs import jobs_cli


@click.group()
def main() -> None:
    """commerce-core: event-sourced orders and payments."""


for command in (migrate, serve, worker, dev, tenant, key, replay, events, projections, jobs_cli):
    main.add_command(command)
main.add_command(customers)
tenant.add_command(tenant_settings)
