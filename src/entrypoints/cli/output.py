"""How commands print: tables for people (colours on a terminal only), JSON for programs,
timestamps in RFC 3339 UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click
import msgspec

FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table for people, json for programs.",
)


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


def to_json(value: Any) -> bytes:
    def hook(obj: Any) -> Any:
        if isinstance(obj, datetime):
            return rfc3339(obj)
        raise NotImplementedError(type(obj).__name__)

    return msgspec.json.encode(msgspec.to_builtins(value, enc_hook=hook), enc_hook=hook)


def echo_json(value: Any) -> None:
    click.echo(msgspec.json.format(to_json(value), indent=2).decode())


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


def coloured_rows(
    headers: Sequence[str], rows: Sequence[Sequence[str]], colours: Sequence[str | None]
) -> str:
    """A table whose rows each take one colour (a replay: the colour of its stream type)."""
    plain = table(headers, rows, [None] * len(headers)).split("\n")
    out = [plain[0]]
    for line, colour in zip(plain[1:], colours, strict=True):
        out.append(click.style(line, fg=colour) if colour else line)
    return "\n".join(out)
