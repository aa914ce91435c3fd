"""Shadow tables in memory, beside a ``MemoryReadModel``'s live tables.

There are no transactions here: a swap holds the checkpoint still by doing the
final check and the swap itself without awaiting anything in between (the
runner cannot run in that gap), and asks ``tail`` again if the runner moved on
while it was reading events.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from adapters.memory.readmodel import MemoryReadModel, Table, apply_change
from commerce_core.eventstore import Position
from commerce_core.projections import Change, Projection, check_change, physical_name
from commerce_core.projections.shadow import (
    Held,
    Purpose,
    RebuildProgress,
    RowDifference,
    Tail,
    differences,
)
from commerce_core.projections.tables import shadow_name


class MemoryRebuildStore:
    """The ``RebuildStore`` port on a ``MemoryReadModel``."""

    def __init__(self, read_model: MemoryReadModel) -> None:
        self._read_model = read_model
        self._progress: dict[tuple[str, int, str], RebuildProgress] = {}

    async def create_shadow(self, projection: Projection, purpose: Purpose) -> None:
        for spec in projection.tables:
            self._read_model.tables[shadow_name(spec.name, projection.version, purpose)] = {}

    async def apply_shadow(
        self, projection: Projection, purpose: Purpose, changes: Sequence[Change]
    ) -> None:
        specs = projection.table_specs()
        for change in changes:
            check_change(change, specs)
        tables = self._read_model.tables
        names = {shadow_name(c.table, projection.version, purpose) for c in changes}
        before = {name: copy.deepcopy(tables[name]) for name in names}
        try:
            for change in changes:
                name = shadow_name(change.table, projection.version, purpose)
                apply_change(tables[name], specs[change.table], change)
        except BaseException:
            tables.update(before)
            raise

    async def swap_shadow(
        self, projection: Projection, tail: Tail, held: Held | None = None
    ) -> Position:
        position = await self._hold(projection, "rebuild", tail)
        if held is not None:
            self._read_model.replace_quarantine(projection, held())
        tables = self._read_model.tables
        for spec in projection.tables:
            live = physical_name(spec.name, projection.version)
            tables[live] = tables.pop(shadow_name(spec.name, projection.version, "rebuild"))
        return position

    async def diff_shadow(
        self, projection: Projection, tail: Tail, limit: int
    ) -> list[RowDifference]:
        await self._hold(projection, "verify", tail)
        tables = self._read_model.tables
        found: list[RowDifference] = []
        for spec in projection.tables:
            live = tables.get(physical_name(spec.name, projection.version), {})
            rebuilt = tables[shadow_name(spec.name, projection.version, "verify")]
            found += differences(spec, _rows(live), _rows(rebuilt))
        return found[:limit]

    async def drop_shadow(self, projection: Projection, purpose: Purpose) -> None:
        for spec in projection.tables:
            self._read_model.tables.pop(shadow_name(spec.name, projection.version, purpose), None)

    async def save_progress(self, progress: RebuildProgress) -> None:
        self._progress[(progress.name, progress.version, progress.kind)] = progress

    async def rebuilds(self) -> list[RebuildProgress]:
        return [self._progress[k] for k in sorted(self._progress)]

    async def _hold(self, projection: Projection, purpose: Purpose, tail: Tail) -> Position:
        """Brings the shadow to the checkpoint; returns with no await since the last check."""
        while True:
            position = await self._position(projection)
            changes = await tail(position)
            await self.apply_shadow(projection, purpose, changes)
            # ``_position`` and ``apply_shadow`` never suspend: nothing ran since this check
            if await self._position(projection) == position:
                return position

    async def _position(self, projection: Projection) -> Position:
        checkpoint = await self._read_model.checkpoint(projection.name, projection.version)
        if checkpoint is None:
            raise LookupError(f"{projection.key} has no checkpoint")
        return checkpoint.position


def _rows(table: Table) -> list[dict[str, object]]:
    return list(table.values())
