"""Shadow tables: a projection version built again beside its live tables.

A rebuild builds the version from the first event into fresh tables while the
live ones keep serving, then swaps them in; a verify builds it the same way and
compares. Both finish while holding the version's checkpoint still, so the
shadow ends at exactly the live position: ``Tail`` hands over the changes of the
events between where the shadow is and that position.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol

import msgspec

from commerce_core.eventstore import Position
from commerce_core.projections.changes import Change
from commerce_core.projections.ports.read_models import QuarantinedEvent
from commerce_core.projections.projection import Projection
from commerce_core.projections.tables import TableSpec

Purpose = Literal["rebuild", "verify"]

Tail = Callable[[Position], Awaitable[Sequence[Change]]]
"""The changes of the events after those already handed over, up to ``position``.

It may be called again with a later position; each call continues where the
last one stopped.
"""


Held = Callable[[], Sequence[QuarantinedEvent]]
"""The events a build quarantined, up to where its tail has gone."""


class RebuildProgress(msgspec.Struct, frozen=True, kw_only=True):
    """How far a rebuild (or verify) of a projection version has come.

    ``total`` is an estimate (the live checkpoint's global position) until done.
    """

    name: str
    version: int
    kind: Purpose
    status: Literal["running", "done", "failed", "degraded"]
    done: int
    total: int
    started_at: datetime
    updated_at: datetime
    error: str | None = None
    quarantined: int = 0
    """Events the build held for their tenants (then ``status`` ends "degraded", not "done")."""

    @property
    def rate(self) -> float | None:
        """Events per second so far (None before any time has passed)."""
        elapsed = (self.updated_at - self.started_at).total_seconds()
        return self.done / elapsed if elapsed > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far (0 once finished, None if unknown)."""
        if self.status != "running":
            return 0.0
        rate = self.rate
        if not rate:
            return None
        return max(self.total - self.done, 0) / rate


class RowDifference(msgspec.Struct, frozen=True, kw_only=True):
    """A row where the live table and a fresh build disagree.

    ``live`` None: the row is missing from the live table; ``rebuilt`` None:
    the live row should not exist.
    """

    table: str
    key: dict[str, Any]
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None

    @property
    def columns(self) -> list[str]:
        """The columns whose values differ (every column for a missing row)."""
        live, rebuilt = self.live or {}, self.rebuilt or {}
        names = [n for n in dict.fromkeys([*live, *rebuilt]) if n not in self.key]
        if self.live is None or self.rebuilt is None:
            return names
        return [n for n in names if live.get(n) != rebuilt.get(n)]


def differences(
    spec: TableSpec,
    live: Sequence[Mapping[str, Any]],
    rebuilt: Sequence[Mapping[str, Any]],
) -> list[RowDifference]:
    """Pairs rows by key; rows equal on both sides are not differences.

    Either side may be just the rows not found on the other (an SQL ``EXCEPT``).
    """
    by_key: dict[tuple[Any, ...], list[dict[str, Any] | None]] = {}
    for side, rows in enumerate((live, rebuilt)):
        for row in rows:
            by_key.setdefault(spec.key_of(dict(row)), [None, None])[side] = dict(row)
    found = []
    for key, (old, new) in sorted(by_key.items()):
        if old != new:
            named = dict(zip(spec.key, key, strict=True))
            found.append(RowDifference(table=spec.name, key=named, live=old, rebuilt=new))
    return found


class RebuildStore(Protocol):
    """What rebuilds need from wherever read models live (beside ``ReadModelStore``).

    - ``create_shadow`` makes empty tables for ``purpose`` beside the version's
      live tables, replacing any left by an interrupted run.
    - ``apply_shadow`` applies changes to them (no checkpoint: a run that stops
      half-way starts again from the first event).
    - ``swap_shadow``, in one transaction that holds the version's checkpoint
      still: applies ``tail(checkpoint)`` to the rebuild tables, makes them the
      version's tables (and the source of the serving views, if the version
      serves) and drops the old ones; with ``held``, the version's quarantined
      events become ``held()`` (asked after the tail); returns the checkpoint position. Readers
      see the old rows until it commits and the new ones after, never neither.
    - ``diff_shadow``, holding the checkpoint still: applies the tail to the
      verify tables and returns up to ``limit`` rows that differ from the live ones.
    - ``drop_shadow`` removes the shadow tables, if any.
    - ``save_progress``/``rebuilds``: the newest run of each kind per version.
    """

    async def create_shadow(self, projection: Projection, purpose: Purpose) -> None: ...

    async def apply_shadow(
        self, projection: Projection, purpose: Purpose, changes: Sequence[Change]
    ) -> None: ...

    async def swap_shadow(
        self, projection: Projection, tail: Tail, held: Held | None = None
    ) -> Position: ...

    async def diff_shadow(
        self, projection: Projection, tail: Tail, limit: int
    ) -> list[RowDifference]: ...

    async def drop_shadow(self, projection: Projection, purpose: Purpose) -> None: ...

    async def save_progress(self, progress: RebuildProgress) -> None: ...

    async def rebuilds(self) -> list[RebuildProgress]: ...
