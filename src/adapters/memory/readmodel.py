"""Read models in memory: the reference applier of projection changes, for tests.

Changes are applied one by one, in order, with the semantics every applier
must match (``tests/contract/test_read_model.py``): the PostgreSQL applier
groups them into set-based statements and must leave the same rows.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from commerce_core.eventstore import START, Position
from commerce_core.projections import (
    Change,
    Checkpoint,
    CheckpointConflictError,
    Delete,
    Increment,
    InvalidChangeError,
    Projection,
    ProjectionState,
    QuarantineChangedError,
    QuarantinedEvent,
    SetMax,
    SetMin,
    TableSpec,
    Upsert,
    check_change,
    physical_name,
)

Row = dict[str, Any]
Table = dict[tuple[Any, ...], Row]


class MemoryReadModel:
    """Tables as dicts keyed by primary key, and checkpoints beside them."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}  # by physical name, e.g. "rm_cart_list_v1"
        self._specs: dict[tuple[str, int], TableSpec] = {}  # (logical table, version)
        self._owners: dict[str, str] = {}  # logical table -> projection name
        self._checkpoints: dict[tuple[str, int], Checkpoint] = {}
        self.quarantine: list[QuarantinedEvent] = []

    async def build_indexes(self, projection: Projection) -> None:
        return None  # no indexes in memory

    async def prepare(self, projection: Projection, *, defer_indexes: bool = False) -> Checkpoint:
        for spec in projection.tables:
            self._specs[(spec.name, projection.version)] = spec
            self._owners[spec.name] = projection.name
            self.tables.setdefault(physical_name(spec.name, projection.version), {})
        ident = (projection.name, projection.version)
        if ident not in self._checkpoints:
            serving = not any(c.serving for c in self._versions(projection.name))
            self._checkpoints[ident] = Checkpoint(
                name=projection.name,
                version=projection.version,
                position=START,
                state=ProjectionState.CATCHING_UP if serving else ProjectionState.REBUILDING,
                serving=serving,
            )
        return self._checkpoints[ident]

    async def apply(
        self,
        projection: Projection,
        changes: Sequence[Change],
        expected: Position,
        position: Position,
        *,
        quarantine: Sequence[QuarantinedEvent] = (),
        held: frozenset[str] | None = None,
    ) -> None:
        ident = (projection.name, projection.version)
        checkpoint = self._checkpoints[ident]
        if checkpoint.position != expected:
            raise CheckpointConflictError(
                f"{projection.key} is at {checkpoint.position}, not {expected}"
            )
        if held is not None and held != self._held_tenants(projection):
            raise QuarantineChangedError(f"{projection.key}: the quarantine changed")
        specs = projection.table_specs()
        for change in changes:
            check_change(change, specs)
        names = {physical_name(c.table, projection.version) for c in changes}
        before = {name: copy.deepcopy(self.tables[name]) for name in names}
        try:
            for change in changes:
                spec = specs[change.table]
                apply_change(
                    self.tables[physical_name(spec.name, projection.version)], spec, change
                )
        except BaseException:
            self.tables.update(before)  # all or nothing, as in a transaction
            raise
        self._checkpoints[ident] = msgspec.structs.replace(checkpoint, position=position)
        self.quarantine.extend(quarantine)

    async def quarantined(
        self, name: str | None = None, version: int | None = None, tenant_id: str | None = None
    ) -> list[QuarantinedEvent]:
        found = [
            entry
            for entry in self.quarantine
            if (name is None or entry.name == name)
            and (version is None or entry.version == version)
            and (tenant_id is None or entry.tenant_id == tenant_id)
        ]
        return sorted(found, key=lambda e: (e.name, e.version, e.position))

    async def release(
        self, projection: Projection, entry: QuarantinedEvent, changes: Sequence[Change]
    ) -> None:
        if entry.event_id not in {
            e.event_id for e in await self.quarantined(entry.name, entry.version)
        }:
            raise QuarantineChangedError(f"event {entry.event_id} is not held any more")
        ident = (projection.name, projection.version)
        checkpoint = self._checkpoints[ident]
        await self.apply(projection, changes, checkpoint.position, checkpoint.position)
        self.quarantine = [
            e
            for e in self.quarantine
            if (e.name, e.version, e.event_id) != (entry.name, entry.version, entry.event_id)
        ]

    async def mark_failed(self, entry: QuarantinedEvent, error: str) -> None:
        self.quarantine = [
            msgspec.structs.replace(e, failed=True, error=error)
            if (e.name, e.version, e.event_id) == (entry.name, entry.version, entry.event_id)
            else e
            for e in self.quarantine
        ]

    def replace_quarantine(
        self, projection: Projection, entries: Sequence[QuarantinedEvent]
    ) -> None:
        """The version's held events become ``entries`` (a rebuild's)."""
        self.quarantine = [
            e
            for e in self.quarantine
            if (e.name, e.version) != (projection.name, projection.version)
        ]
        self.quarantine.extend(entries)

    def _held_tenants(self, projection: Projection) -> frozenset[str]:
        return frozenset(
            e.tenant_id
            for e in self.quarantine
            if (e.name, e.version) == (projection.name, projection.version)
        )

    async def set_state(
        self, projection: Projection, state: ProjectionState, error: str | None = None
    ) -> None:
        ident = (projection.name, projection.version)
        self._checkpoints[ident] = msgspec.structs.replace(
            self._checkpoints[ident], state=state, error=error
        )

    async def promote(self, projection: Projection) -> None:
        for checkpoint in self._versions(projection.name):
            serving = checkpoint.version == projection.version
            ident = (checkpoint.name, checkpoint.version)
            self._checkpoints[ident] = msgspec.structs.replace(checkpoint, serving=serving)

    async def checkpoints(self) -> list[Checkpoint]:
        return sorted(self._checkpoints.values(), key=lambda c: (c.name, c.version))

    async def checkpoint(self, name: str, version: int) -> Checkpoint | None:
        return self._checkpoints.get((name, version))

    async def rows(self, table: str, version: int | None = None, **where: Any) -> list[Row]:
        if version is None:
            version = self._serving_version(table)
        spec = self._specs[(table, version)]
        rows = self.tables[physical_name(table, version)].values()
        found = [dict(r) for r in rows if all(r.get(k) == v for k, v in where.items())]
        return sorted(found, key=spec.key_of)

    async def row(self, table: str, **key: Any) -> Row | None:
        """The serving row with this key, or None."""
        found = await self.rows(table, **key)
        return found[0] if found else None

    def _versions(self, name: str) -> list[Checkpoint]:
        return [c for c in self._checkpoints.values() if c.name == name]

    def _serving_version(self, table: str) -> int:
        owner = self._owners[table]
        serving = [c.version for c in self._versions(owner) if c.serving]
        if not serving:
            raise LookupError(f"no version of {owner} serves table {table}")
        return serving[0]


def _json(value: Any) -> Any:
    """What a JSON column gives back: the value through JSON and back."""
    if value is None:
        return None
    try:
        return msgspec.json.decode(msgspec.json.encode(value))
    except (TypeError, msgspec.EncodeError) as error:
        raise InvalidChangeError(f"{value!r} is not JSON: {error}") from error


def _stored(spec: TableSpec, values: Mapping[str, Any]) -> Row:
    return {k: _json(v) if spec.by_name[k].type == "jsonb" else v for k, v in values.items()}


def _new_row(spec: TableSpec, key: Mapping[str, Any]) -> Row:
    row: Row = {c.name: _json(c.default) if c.type == "jsonb" else c.default for c in spec.columns}
    row.update(key)
    return row


def apply_change(table: Table, spec: TableSpec, change: Change) -> None:
    """Applies one change to a table in place (the reference semantics)."""
    key = spec.key_of(change.key)
    if isinstance(change, Delete):
        table.pop(key, None)
        return
    row = table.get(key)
    if row is None:
        row = table[key] = _new_row(spec, change.key)
    match change:
        case Upsert(values=values):
            row.update(_stored(spec, values))
        case Increment(values=values):
            for name, delta in values.items():
                row[name] = (row[name] or 0) + delta
        case SetMax(column=name, value=value):
            row[name] = value if row[name] is None else max(row[name], value)
        case SetMin(column=name, value=value):
            row[name] = value if row[name] is None else min(row[name], value)
