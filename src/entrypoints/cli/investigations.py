"""`commerce replay order|payment ID` and `commerce events export`: support staff and auditors."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import click
import msgspec

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.investigations.audit import export_events
from commerce_core.investigations.replay import (
    AsOf,
    Timeline,
    order_timeline,
    payment_timeline,
    state_of,
)
from commerce_core.shared.errors import InvalidValueError
from commerce_core.tenancy.ports.tenants import TenantNotFoundError
from entrypoints.cli.output import FORMAT, Instant, coloured_rows, echo_json, rfc3339, to_json
from entrypoints.cli.runtime import run_ops
from entrypoints.container import Container
from entrypoints.tenancy import find_tenant

_COLOURS = {"Order": "cyan", "Payment": "green", "Shipment": "magenta", "StockItem": "yellow"}
_NOISE = ("timestamp", "originator_topic")  # the library's envelope, not business data


# -- replay ----------------------------------------------------------------------------------


@click.group()
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
        try:
            return AsOf.parse(as_of)
        except InvalidValueError as error:
            raise click.BadParameter(str(error), param_hint="--as-of") from error
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
        timeline = run_ops(work)
    except AggregateNotFoundError as error:
        raise click.ClickException(f"no {kind} {aggregate_id}") from error
    state = None if timeline.state is None else state_of(timeline.state)
    if fmt == "json":
        echo_json(
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
        click.echo(coloured_rows(headers, rows, colours))
    else:
        click.echo("no events by then")
    click.echo()
    if state is None:
        click.echo(f"the {kind} did not exist yet")
    else:
        click.echo(click.style(f"State at version {state['version']}:", bold=True))
        click.echo(msgspec.json.format(to_json(state), indent=2).decode())


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


@click.group()
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
        tenant_id = str((await find_tenant(c.tenants(), tenant)).id)
        count = 0
        async for record in export_events(c.event_store(), tenant_id, since=since, until=until):
            out.write(encoder.encode(record) + b"\n")
            count += 1
        out.flush()
        return count

    try:
        count = run_ops(work)
    except TenantNotFoundError as error:
        raise click.ClickException(f"no tenant {tenant!r}") from error
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error
        sys.stderr.close()
        return
    click.echo(f"exported {count} event(s)", err=True)
