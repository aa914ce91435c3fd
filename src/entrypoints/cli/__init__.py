"""The operator's command line, `commerce`: one module per group of commands."""

from __future__ import annotations

from typing import Any

import click

from entrypoints.cli.customers import customers
from entrypoints.cli.failures import one_line_failure
from entrypoints.cli.investigations import events, replay
from entrypoints.cli.jobs import jobs_cli
from entrypoints.cli.projections import projections
from entrypoints.cli.server import dev, migrate, serve, worker
from entrypoints.cli.settings import tenant_settings
from entrypoints.cli.tenants import key, tenant


class Commands(click.Group):
    """The command group that answers any failure with one line on stderr and exit
    status 1; an unexpected exception's traceback goes to the log file instead."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            raise one_line_failure(error) from error


@click.group(cls=Commands)
def main() -> None:
    """commerce-core: event-sourced orders and payments.

    Without DATABASE_URL, commands use the embedded PostgreSQL of DATA_DIR (default
    ./var): the one `make run` is running, or one started for the command."""


for command in (migrate, serve, worker, dev, tenant, key, replay, events, projections, jobs_cli):
    main.add_command(command)
main.add_command(customers)
tenant.add_command(tenant_settings)
