"""Groups a batch's changes into few set-based statements without changing their effect.

Applying changes one by one costs a round trip each. A group holds changes of
one kind (operation, table, columns) and becomes one multi-row statement, so a
change should join the group of its kind that already exists. That moves it
ahead of the changes made in between, which is safe when they commute with it:
changes to different rows always do; changes to one row do when they touch
different columns and neither is a ``Delete`` (a new row takes the same
defaults whichever change creates it, see ``changes``). Two changes of one kind
on one row merge into one (values replace, deltas add, max/min keep the
extreme), so no statement names a row twice, as a multi-row
``INSERT ... ON CONFLICT DO UPDATE`` requires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from commerce_core.projections.changes import Change, Delete, Increment, SetMax, SetMin, Upsert
from commerce_core.projections.tables import TableSpec

Signature = tuple[type, str, tuple[str, ...]]
RowId = tuple[str, tuple[Any, ...]]


@dataclass
class ChangeGroup:
    """Changes of one kind on one table and one set of columns, at most one per row."""

    kind: type[Change]
    table: TableSpec
    columns: tuple[str, ...]
    rows: dict[tuple[Any, ...], Change] = field(default_factory=dict)


@dataclass
class _RowTouches:
    """The newest group that touched a row: at all, by a delete, per column."""

    any: int = -1
    delete: int = -1
    columns: dict[str, int] = field(default_factory=dict)

    def blocks(self, change: Change, columns: tuple[str, ...], index: int) -> bool:
        """Whether a group after ``index`` did something ``change`` must stay behind."""
        if self.any <= index:
            return False  # nothing after the group touched the row (the common case)
        if isinstance(change, Delete):
            return True
        if self.delete > index:
            return True
        touched = self.columns
        return any(touched.get(column, -1) > index for column in columns)

    def record(self, change: Change, columns: tuple[str, ...], index: int) -> None:
        if index > self.any:
            self.any = index
        if isinstance(change, Delete):
            self.delete = index
        touched = self.columns
        for column in columns:
            if touched.get(column, -1) < index:
                touched[column] = index


_SORTED: dict[tuple[str, ...], tuple[str, ...]] = {}  # column names as given -> sorted


def signature(change: Change) -> Signature:
    match change:
        case Upsert(values=values) | Increment(values=values):
            given = tuple(values)
            names = _SORTED.get(given)
            if names is None:
                names = _SORTED[given] = tuple(sorted(given))
            return (type(change), change.table, names)
        case SetMax(column=column) | SetMin(column=column):
            return (type(change), change.table, (column,))
        case _:
            return (Delete, change.table, ())


def merge(first: Change, then: Change) -> Change:
    """One change with the effect of ``first`` followed by ``then`` (same row and kind)."""
    match first, then:
        case Increment(), Increment():
            values = {name: delta + then.values[name] for name, delta in first.values.items()}
            return Increment(first.table, first.key, values)
        case SetMax(), SetMax():
            return first if first.value >= then.value else then
        case SetMin(), SetMin():
            return first if first.value <= then.value else then
        case _:
            return then  # Upsert of the same columns: the later values win; Delete: same


def plan(changes: Sequence[Change], tables: Mapping[str, TableSpec]) -> list[ChangeGroup]:
    """The groups to run, in order; ``changes`` must already pass ``check_change``."""
    groups: list[ChangeGroup] = []
    latest: dict[Signature, int] = {}  # signature -> index of its newest group
    touches: dict[RowId, _RowTouches] = {}
    for change in changes:
        spec = tables[change.table]
        sig = signature(change)
        row = spec.key_of(change.key)
        touched = touches.get((change.table, row))
        if touched is None:
            touched = touches[(change.table, row)] = _RowTouches()
        index = latest.get(sig)
        if index is None or touched.blocks(change, sig[2], index):
            index = len(groups)
            groups.append(ChangeGroup(sig[0], spec, sig[2]))
            latest[sig] = index
        rows = groups[index].rows
        earlier = rows.get(row)
        rows[row] = change if earlier is None else merge(earlier, change)
        touched.record(change, sig[2], index)
    return groups
