"""Operators' commands for investigations and projections, registered on `commerce`.

`commerce replay order|payment ID`, `commerce events export`, and
`commerce projections status|rebuild|verify`. Tables are for people (colours
on a terminal only), JSON for programs; timestamps are RFC 3339 UTC.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import click
import msgspec
from dependency_injector import providers

from commerce_core.application.audit import export_events
from commerce_core.application.replay import (
    AsOf,
    Timeline,
    order_timeline,
    payment_timeline,
    state_of,
)
from commerce_core.domain.errors import InvalidValueError
from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.projections.rebuild import NotStartedError, RebuildRunningError
from commerce_core.projections.shadow import RebuildProgress, RowDifference
from entrypoints.cli import main
from entrypoints.container import Container, build_container, open_pool
from entrypoints.projection_ops import (
    ProjectionInfo,
    ProjectionOps,
    UnknownProjectionError,
    build_projection_ops,
)
from entrypoints.settings import get_settings

T = TypeVar("T")

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for programs.",
)
_COLOURS = {"Order": "cyan", "Payment": "green", "Shipment": "magenta", "StockItem": "yellow"}
_NOISE = ("timestamp", "originator_topic")  # the library's envelope, not business data


class Instant(click.ParamType[datetime]):
    """An RFC 3339 timestamp (or a date); without a zone it is UTC."""

    name = "timestamp"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            at = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not an RFC 3339 timestamp", param, ctx)
        return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(value: Any) -> bytes:
    def hook(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return rfc3339(obj)
        raise NotImplementedError(type(obj).__name__)

    return msgspec.json.encode(msgspec.to_builtins(value, enc_hook=hook), enc_hook=hook)


def _echo_json(value: Any) -> None:
    click.echo(msgspec.json.format(_json(value), indent=2).decode())


async def _with_container(work: Callable[[Container], Awaitable[T]]) -> T:
    settings = get_settings()
    if not settings.database_url:
        raise click.ClickException("DATABASE_URL is not set")
    container = build_container(settings)
    async with open_pool(settings) as pool:
        if pool is None:
            raise click.ClickException("these commands need PostgreSQL: unset EVENT_STORE=memory")
        container.pool.override(providers.Object(pool))
        return await work(container)


def _run(work: Callable[[Container], Awaitable[T]]) -> T:
    try:
        return asyncio.run(_with_container(work))
    except (UnknownProjectionError, NotStartedError, RebuildRunningError) as error:
        raise click.ClickException(str(error.args[0] if error.args else error)) from error
    except InvalidValueError as error:
        raise click.UsageError(str(error)) from error


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], colours: Sequence[str | None]
) -> str:
    """Aligned columns; ``colours`` per column (click.echo drops them off a terminal)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    widths[-1] = 0  # the last column is not padded

    def line(cells: Sequence[str], styles: Sequence[dict[str, Any]]) -> str:
        return "  ".join(
            click.style(cell.ljust(w), **style) if style else cell.ljust(w)
            for cell, w, style in zip(cells, widths, styles, strict=True)
        )

    lines = [line(headers, [{"bold": True}] * len(headers))]
    lines += [line(row, [{"fg": c} if c else {} for c in colours]) for row in rows]
    return "\n".join(lines)


# -- replay ----------------------------------------------------------------------------------


@main.group()
def replay() -> None:
    """An order's or a payment's full timeline with metadata, and its state as of a moment."""


def _as_of(as_of: str | None, version: int | None) -> AsOf | None:
    if as_of is not None and version is not None:
        raise click.UsageError("give --as-of or --version, not both")
    if version is not None:
        return AsOf(version=version)
    if as_of is None:
        return None
    if as_of.strip().isdigit():
        return AsOf.parse(as_of)
    return AsOf(at=Instant().convert(as_of, None, None))


def _replay_options(command: Callable[..., None]) -> Callable[..., None]:
    command = FORMAT(command)
    command = click.option("--version", type=click.IntRange(min=1), help="As of this version.")(
        command
    )
    command = click.option(
        "--as-of", "as_of", metavar="TIMESTAMP", help="As of this instant (RFC 3339)."
    )(command)
    return click.argument("aggregate_id", type=click.UUID)(command)


Loader = Callable[[Repository, UUID, AsOf | None], Awaitable[Timeline[Any]]]


def _replay(kind: str, load: Loader, aggregate_id: UUID, at: AsOf | None, fmt: str) -> None:
    async def work(c: Container) -> Timeline[Any]:
        return await load(c.repository(), aggregate_id, at)

    try:
        timeline = _run(work)
    except AggregateNotFoundError as error:
        raise click.ClickException(f"no {kind} {aggregate_id}") from error
    state = None if timeline.state is None else state_of(timeline.state)
    if fmt == "json":
        _echo_json(
            {
                "kind": kind,
                "id": str(aggregate_id),
                "as_of": None if at is None else msgspec.to_builtins(at),
                "events": timeline.events,
                "state": state,
            }
        )
        return
    moment = "" if at is None else f" as of {at.version or rfc3339(at.at or datetime.now(UTC))}"
    click.echo(click.style(f"{kind.capitalize()} {aggregate_id}{moment}", bold=True))
    rows, colours = [], []
    for e in timeline.events:
        data = {k: v for k, v in e.data.items() if k not in _NOISE}
        preview = msgspec.json.encode(data).decode()
        rows.append(
            [
                rfc3339(e.at),
                f"{e.stream_type} {str(e.stream)[:8]}",
                str(e.version),
                e.type,
                e.metadata.get("actor") or "-",
                e.metadata.get("correlation_id") or "-",
                preview if len(preview) <= 72 else preview[:71] + "…",
            ]
        )
        colours.append(_COLOURS.get(e.stream_type))
    headers = ["AT", "STREAM", "V", "TYPE", "ACTOR", "CORRELATION", "DATA"]
    if rows:
        click.echo(_coloured_rows(headers, rows, colours))
    else:
        click.echo("no events by then")
    click.echo()
    if state is None:
        click.echo(f"the {kind} did not exist yet")
    else:
        click.echo(click.style(f"State at version {state['version']}:", bold=True))
        click.echo(msgspec.json.format(_json(state), indent=2).decode())


def _coloured_rows(
    headers: Sequence[str], rows: Sequence[Sequence[str]], colours: Sequence[str | None]
) -> str:
    """A table whose rows take the colour of their stream type (TYPE column)."""
    plain = table(headers, rows, [None] * len(headers)).split("\n")
    out = [plain[0]]
    for line, colour in zip(plain[1:], colours, strict=True):
        out.append(click.style(line, fg=colour) if colour else line)
    return "\n".join(out)


@replay.command("order")
@_replay_options
def replay_order(aggregate_id: UUID, as_of: str | None, version: int | None, fmt: str) -> None:
    """The order's events with its payments', refunds', shipments' and reservations'."""

    async def load(repo: Repository, order_id: UUID, at: AsOf | None) -> Timeline[Any]:
        return await order_timeline(repo, order_id, as_of=at)

    _replay("order", load, aggregate_id, _as_of(as_of, version), fmt)


@replay.command("payment")
@_replay_options
def replay_payment(aggregate_id: UUID, as_of: str | None, version: int | None, fmt: str) -> None:
    """The payment's events (authorization, captures, refunds, disputes)."""

    async def load(repo: Repository, payment_id: UUID, at: AsOf | None) -> Timeline[Any]:
        return await payment_timeline(repo, payment_id, as_of=at)

    _replay("payment", load, aggregate_id, _as_of(as_of, version), fmt)


# -- audit export ----------------------------------------------------------------------------


@main.group()
def events() -> None:
    """The event log."""


@events.command("export")
@click.option("--tenant", required=True, help="The tenant's slug or id.")
@click.option("--from", "since", type=Instant(), help="Recorded at or after (RFC 3339).")
@click.option("--to", "until", type=Instant(), help="Recorded before (RFC 3339).")
def events_export(tenant: str, since: datetime | None, until: datetime | None) -> None:
    """Stream a tenant's events as JSON lines, in the global order, to stdout."""
    out = sys.stdout.buffer
    encoder = msgspec.json.Encoder()

    async def work(c: Container) -> int:
        found = await c.tenants().tenant_by_slug(tenant)
        tenant_id = str(found.id) if found is not None else _tenant_id(tenant)
        count = 0
        async for record in export_events(c.event_store(), tenant_id, since=since, until=until):
            out.write(encoder.encode(record) + b"\n")
            count += 1
        out.flush()
        return count

    try:
        count = _run(work)
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error
        sys.stderr.close()
        return
    click.echo(f"exported {count} event(s)", err=True)


def _tenant_id(tenant: str) -> str:
    try:
        return str(UUID(tenant))
    except ValueError:
        raise click.ClickException(f"no tenant {tenant!r}") from None


# -- projections -----------------------------------------------------------------------------


@main.group()
def projections() -> None:
    """Read-model projections: status, zero-downtime rebuild, verify."""


@projections.command("status")
@FORMAT
def projections_status(fmt: str) -> None:
    """Each projection version: position, lag, status, and its last rebuild."""

    async def work(c: Container) -> list[ProjectionInfo]:
        return await build_projection_ops(c).statuses()

    infos = _run(work)
    if fmt == "json":
        _echo_json(infos)
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
                rebuild,
            ]
        )
        colours.append("red" if i.status == "failed" else "green" if i.status == "live" else None)
    headers = ["NAME", "VERSION", "POSITION", "LAG", "STATUS", "SERVING", "REBUILD"]
    click.echo(_coloured_rows(headers, rows, colours))


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

    done = _run(work)
    click.echo(describe(done))


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

    found = _run(work)
    if fmt == "json":
        _echo_json([_difference_json(d) for d in found])
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
