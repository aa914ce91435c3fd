"""`commerce projections status|rebuild|verify`: read models, rebuilt with no downtime."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any
from uuid import UUID

import click

from commerce_core.projections.shadow import RebuildProgress, RowDifference
from entrypoints.cli.output import FORMAT, coloured_rows, echo_json, rfc3339, table
from entrypoints.cli.runtime import run_ops
from entrypoints.container import Container
from entrypoints.projection_ops import (
    ProjectionInfo,
    ProjectionOps,
    QuarantineInfo,
    Resolution,
    build_projection_ops,
)

# -- projections -----------------------------------------------------------------------------


@click.group()
def projections() -> None:
    """Read-model projections: status, zero-downtime rebuild, verify."""


@projections.command("status")
@FORMAT
def projections_status(fmt: str) -> None:
    """Each projection version: position, lag, status, and its last rebuild."""

    async def work(c: Container) -> list[ProjectionInfo]:
        return await build_projection_ops(c).statuses()

    infos = run_ops(work)
    if fmt == "json":
        echo_json(infos)
        return
    rows, colours = [], []
    for i in infos:
        run = i.rebuild
        rebuild = "-" if run is None else f"{run.status} {run.done}/{run.total}"
        rows.append(
            [
                i.name,
                str(i.version),
                str(i.position),
                str(i.lag),
                i.status,
                _yes(i.serving),
                f"{i.quarantined} ({i.degraded_tenants} tenants)" if i.quarantined else "-",
                rebuild,
            ]
        )
        colours.append(_colour(i.status))
    headers = ["NAME", "VERSION", "POSITION", "LAG", "STATUS", "SERVING", "QUARANTINED", "REBUILD"]
    click.echo(coloured_rows(headers, rows, colours))


def _colour(status: str) -> str | None:
    return {"failed": "red", "degraded": "yellow", "live": "green"}.get(status)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


class ProgressPrinter:
    """Prints progress to stderr: one line rewritten on a terminal, else a line a second."""

    def __init__(self, interval: float = 1.0) -> None:
        self._tty = sys.stderr.isatty()
        self._interval = interval
        self._last = 0.0

    def __call__(self, progress: RebuildProgress) -> None:
        now = time.monotonic()
        final = progress.status != "running"
        if not final and now - self._last < self._interval:
            return
        self._last = now
        line = describe(progress)
        if self._tty:
            click.echo("\r\033[K" + line, nl=final, err=True)
        else:
            click.echo(line, err=True)


def describe(progress: RebuildProgress) -> str:
    """``order_list v1 rebuild: 12000/20000 events (60%), 35000 events/s, ETA 0:00:01``."""
    total = max(progress.total, progress.done, 1)
    parts = [f"{progress.done}/{progress.total} events ({100 * progress.done // total}%)"]
    if progress.rate is not None:
        parts.append(f"{progress.rate:.0f} events/s")
    eta = progress.eta_seconds
    if progress.status == "running":
        parts.append("ETA " + ("?" if eta is None else _duration(eta)))
    elif progress.status == "degraded":
        parts.append(f"degraded, {progress.quarantined} event(s) quarantined")
    else:
        parts.append(progress.status)
    return f"{progress.name} v{progress.version} {progress.kind}: " + ", ".join(parts)


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@projections.command("rebuild")
@click.argument("name")
def projections_rebuild(name: str) -> None:
    """Rebuild NAME from the first event into new tables while the old ones serve,
    then swap them in atomically and drop the old ones."""
    printer = ProgressPrinter()

    async def work(c: Container) -> RebuildProgress:
        return await build_projection_ops(c).rebuild(name, on_progress=printer)

    done = run_ops(work)
    click.echo(describe(done))
    if done.status == "degraded":
        click.echo(f"{done.quarantined} event(s) quarantined: {done.error}", err=True)
        sys.exit(1)


@projections.command("verify")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@FORMAT
def projections_verify(name: str, limit: int, fmt: str) -> None:
    """Rebuild NAME into scratch tables and compare with the live rows.
    Prints the differences; exits 1 if there are any."""
    printer = ProgressPrinter()

    async def work(c: Container) -> list[RowDifference]:
        ops: ProjectionOps = build_projection_ops(c)
        return await ops.verify(name, limit, on_progress=printer)

    found = run_ops(work)
    if fmt == "json":
        echo_json([_difference_json(d) for d in found])
    elif found:
        rows = [
            [d.table, _cells(d.key), column, _cell(d.live, column), _cell(d.rebuilt, column)]
            for d in found
            for column in d.columns or ["-"]
        ]
        headers = ["TABLE", "KEY", "COLUMN", "LIVE", "REBUILT"]
        click.echo(table(headers, rows, [None, None, "yellow", "red", "green"]))
        click.echo(f"{len(found)} row(s) differ{' (or more)' if len(found) >= limit else ''}")
    else:
        click.echo(f"{name}: the live rows match a rebuild from the events")
    if found:
        sys.exit(1)


def _difference_json(d: RowDifference) -> dict[str, Any]:
    return {
        "table": d.table,
        "key": d.key,
        "columns": d.columns,
        "live": d.live,
        "rebuilt": d.rebuilt,
    }


def _cells(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in values.items())


def _cell(row: dict[str, Any] | None, column: str) -> str:
    if row is None:
        return "(no row)"
    return _text(row.get(column))


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return rfc3339(value)
    return str(value)


# -- quarantine --------------------------------------------------------------------------------


async def _tenant_id(c: Container, slug_or_id: str | None) -> str | None:
    """The id of the tenant of a slug; anything else is taken as an id (held events may
    name a tenant id that no tenant row has)."""
    if slug_or_id is None:
        return None
    found = await c.tenants().tenant_by_slug(slug_or_id)
    return str(found.id) if found is not None else slug_or_id


@projections.command("quarantine")
@click.argument("name", required=False)
@click.option("--tenant", "tenant_id", help="Only this tenant's held events (slug or id).")
@FORMAT
def projections_quarantine(name: str | None, tenant_id: str | None, fmt: str) -> None:
    """The events projections hold per tenant: the one that failed, and those behind it."""

    async def work(c: Container) -> list[QuarantineInfo]:
        return await build_projection_ops(c).quarantine(name, await _tenant_id(c, tenant_id))

    found = run_ops(work)
    if fmt == "json":
        echo_json(found)
        return
    rows = [[e.tenant_id, str(e.position), str(e.event_id), e.event_type, e.error] for e in found]
    colours = ["red" if e.failed else None for e in found]
    headers = ["TENANT", "POSITION", "EVENT", "TYPE", "ERROR"]
    click.echo(coloured_rows(headers, rows, colours))


@projections.command("retry")
@click.argument("name")
@click.option("--tenant", "tenant_id", help="Only this tenant, slug or id (default: all held).")
def projections_retry(name: str, tenant_id: str | None) -> None:
    """Apply NAME's quarantined events again, in order, after the projection was fixed.
    Stops, per tenant, at an event that still fails (exit 1)."""

    async def work(c: Container) -> list[Resolution]:
        return await build_projection_ops(c).retry(name, await _tenant_id(c, tenant_id))

    done = run_ops(work)
    for each in done:
        click.echo(_resolution(each))
    if any(each.error for each in done):
        sys.exit(1)


@projections.command("skip")
@click.argument("name")
@click.option("--tenant", "tenant_id", required=True, help="The tenant's slug or id.")
@click.option("--event", "event_id", type=click.UUID, help="The failing event (a check).")
def projections_skip(name: str, tenant_id: str, event_id: UUID | None) -> None:
    """Drop the tenant's failing event of NAME without applying it, then apply the
    events held behind it."""

    async def work(c: Container) -> Resolution:
        found = await _tenant_id(c, tenant_id)
        assert found is not None
        return await build_projection_ops(c).skip(name, found, event_id)

    done = run_ops(work)
    click.echo(_resolution(done))
    if done.error:
        sys.exit(1)


def _resolution(done: Resolution) -> str:
    line = f"tenant {done.tenant_id}: {done.applied} applied, {done.skipped} skipped"
    if done.held:
        line += f", {done.held} still held: {done.error}"
    return line
