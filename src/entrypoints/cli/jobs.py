"""`commerce jobs run NAME`: one order or payment job, once (``entrypoints.jobs``)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import date, datetime

import click

from commerce_core.processes.payment_jobs import JobOutcome
from entrypoints.cli.runtime import with_container
from entrypoints.container import Container
from entrypoints.jobs import JOBS, JobDeps, run_job


async def _run_once(name: str, day: date | None) -> JobOutcome:
    async def work(c: Container) -> JobOutcome:
        return await run_job(name, JobDeps.from_container(c), day)

    return await with_container(work, "jobs work on PostgreSQL: unset EVENT_STORE=memory")


@click.group("jobs")
def jobs_cli() -> None:
    """Order and payment jobs (the worker and the app run them periodically)."""


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(sorted(JOBS)))
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="reconcile: the UTC day to reconcile (default yesterday).",
)
def run_command(name: str, day: datetime | None) -> None:
    """Run job NAME once and print its outcome (JSON); exit status 1 if items failed."""
    outcome = asyncio.run(_run_once(name, day.date() if day else None))
    click.echo(json.dumps(dataclasses.asdict(outcome)))
    if outcome.errors:
        raise SystemExit(1)
