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
from uuid import UUID

from commerce_core.projections.changes import Change, Delete, Increment, SetMax, SetMin, Upsert
from commerce_core.projections.tables import TableSpec

Signature = tuple[type, str, tuple[str, ...]]
RowId = tuple[Any, ...]  # the table, then the row's key values (a UUID as its int)


@dataclass
class ChangeGroup:
    """Changes of one kind on one table and one set of columns, at most one per row."""

    kind: type[Change]
    table: TableSpec
    columns: tuple[str, ...]
    rows: dict[RowId, Change] = field(default_factory=dict)


@dataclass(slots=True)
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


_SORTED: dict[tuple[str, ...], tuple[str, ...]] = {}  # column names as given -> sorted


_KINDS = (Upsert, Increment, SetMax, SetMin, Delete)


def signature(change: Change) -> Signature:
    kind: type[Change] = type(change)
    if kind not in _KINDS:  # a subclass: grouped, and written, as the kind it is
        kind = next(base for base in _KINDS if isinstance(change, base))
    if kind is Upsert or kind is Increment:
        given = tuple(change.values)  # type: ignore[union-attr]
        names = _SORTED.get(given)
        if names is None:
            names = _SORTED[given] = tuple(sorted(given))
        return (kind, change.table, names)
    if kind is SetMax or kind is SetMin:
        return (kind, change.table, (change.column,))  # type: ignore[union-attr]
    return (Delete, change.table, ())


def row_id(table: str, key_names: tuple[str, ...], key: dict[str, Any]) -> RowId:
    """The row a change names, as a dictionary key.

    A UUID stands as its int: ``UUID.__hash__`` is Python code, and a batch hashes
    each row id several times (a key column holds values of one type only).
    """
    if len(key_names) == 2:  # the usual (tenant_id, id): a loop costs more than the work
        first, second = key[key_names[0]], key[key_names[1]]
        return (
            table,
            first.int if type(first) is UUID else first,
            second.int if type(second) is UUID else second,
        )
    return (table, *[v.int if type(v) is UUID else v for v in (key[n] for n in key_names)])


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
        columns = sig[2]
        row = row_id(change.table, spec.key, change.key)
        index = latest.get(sig)
        touched = touches.get(row)
        if touched is None:
            touched = touches[row] = _RowTouches()
        elif index is not None and touched.blocks(change, columns, index):
            index = None
        if index is None:
            index = len(groups)
            groups.append(ChangeGroup(sig[0], spec, columns))
            latest[sig] = index
        rows = groups[index].rows
        earlier = rows.get(row)
        rows[row] = change if earlier is None else merge(earlier, change)
        # touched.record(change, columns, index), inline: it runs for every change
        if index > touched.any:
            touched.any = index
        if sig[0] is Delete:
            touched.delete = index
        by_column = touched.columns
        for column in columns:
            if by_column.get(column, -1) < index:
                by_column[column] = index
    return groups
