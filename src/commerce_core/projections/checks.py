"""Checks a change against its table spec, so that every applier refuses the same things."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import repeat
from operator import attrgetter, eq, itemgetter
from types import NoneType
from typing import Any
from uuid import UUID

from commerce_core.projections.changes import Change, Delete, Increment, SetMax, SetMin, Upsert
from commerce_core.projections.tables import ORDERED_TYPES, Column, TableSpec

_INT64 = range(-(2**63), 2**63)
_STR, _INT, _DATETIME, _UUID = {str}, {int}, {datetime}, {UUID}
_tzinfo, _key, _values, _value = (attrgetter(n) for n in ("tzinfo", "key", "values", "value"))


class InvalidChangeError(ValueError):
    """A change does not fit its table (unknown table or column, wrong type, missing key).

    It is a bug in the projection, not a passing fault: the runner marks the
    projection failed rather than retrying.
    """


def fits(column: Column, value: Any) -> bool:
    """Whether ``value`` can be stored in ``column`` (``None`` stands for NULL)."""
    if value is None:
        return True
    match column.type:
        case "text":
            return isinstance(value, str) and _storable(value)
        case "int":
            return isinstance(value, int) and not isinstance(value, bool) and value in _INT64
        case "bool":
            return isinstance(value, bool)
        case "timestamptz":
            return isinstance(value, datetime) and value.tzinfo is not None
        case "uuid":
            return isinstance(value, UUID)
        case _:
            return True  # jsonb: the applier's JSON encoder has the last word


def _storable(text: str) -> bool:
    """Whether PostgreSQL text can hold ``text``: no NUL, and valid UTF-8 (no lone surrogate),
    refused everywhere alike so that every applier keeps the same rows."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_change(change: Change, tables: Mapping[str, TableSpec]) -> TableSpec:
    """Raises ``InvalidChangeError`` unless ``change`` fits its table; returns the table."""
    spec = tables.get(change.table)
    if spec is None:
        raise InvalidChangeError(f"{change!r}: no table {change.table!r} in this projection")
    _check_key(change, spec)
    match change:
        case Upsert(values=values):
            _check_values(change, spec, values)
        case Increment(values=values):
            _check_values(change, spec, values)
            if not values:
                raise InvalidChangeError(f"{change!r}: nothing to increment")
            if any(spec.by_name[name].type != "int" for name in values):
                raise InvalidChangeError(f"{change!r}: only int columns can be incremented")
        case SetMax(column=name, value=value) | SetMin(column=name, value=value):
            _check_values(change, spec, {name: value})
            column = spec.by_name[name]
            if value is None or column.type not in ORDERED_TYPES or column.default is not None:
                raise InvalidChangeError(
                    f"{change!r}: needs a non-null value and a comparable column without default"
                )
        case Delete():
            pass
    return spec


def _check_key(change: Change, spec: TableSpec) -> None:
    if change.key.keys() != spec.key_names:
        raise InvalidChangeError(f"{change!r}: the key must be exactly {list(spec.key)}")
    for name, value in change.key.items():
        if value is None or not fits(spec.by_name[name], value):
            raise InvalidChangeError(f"{change!r}: key {name}={value!r} does not fit")


def _check_values(change: Change, spec: TableSpec, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        column = spec.by_name.get(name)
        if column is None or name in spec.key:
            raise InvalidChangeError(f"{change!r}: {name!r} is not a value column of {spec.name}")
        if not fits(column, value):
            raise InvalidChangeError(f"{change!r}: {name}={value!r} does not fit {column.type}")


def check_changes(changes: Sequence[Change], tables: Mapping[str, TableSpec]) -> None:
    """Raises what ``check_change`` raises for the first of ``changes`` that does not fit.

    The same verdict, for a batch at a fraction of the cost: the changes are taken
    by kind (class, table, columns), the table's rules checked once per kind and
    the values column by column; only a batch that fails is checked change by
    change, to name the first change that does not fit.
    """
    if not _all_fit(changes, tables):
        for change in changes:
            check_change(change, tables)


def _all_fit(changes: Sequence[Change], tables: Mapping[str, TableSpec]) -> bool:
    kinds: dict[tuple[Any, ...], list[Change]] = {}
    for change in changes:
        cls = type(change)
        if cls is Upsert or cls is Increment:
            kind: tuple[Any, ...] = (cls, change.table, tuple(change.values))  # type: ignore[union-attr]
        elif cls is SetMax or cls is SetMin:
            kind = (cls, change.table, change.column)  # type: ignore[union-attr]
        elif cls is Delete:
            kind = (cls, change.table)
        else:
            return False  # a subclass: checked one by one
        same = kinds.get(kind)
        if same is None:
            kinds[kind] = [change]
        else:
            same.append(change)
    return all(_kind_fits(same, tables) for same in kinds.values())


def _kind_fits(same: list[Change], tables: Mapping[str, TableSpec]) -> bool:
    """Changes of one class, table and columns: the first checked whole, the rest by column."""
    first = same[0]
    try:
        spec = check_change(first, tables)
    except InvalidChangeError:
        return False
    keys = list(map(_key, same))
    if not all(map(eq, map(dict.keys, keys), repeat(spec.key_names))):
        return False
    by_name = spec.by_name
    for name in spec.key:
        if not _column_fits(by_name[name], list(map(itemgetter(name), keys)), nullable=False):
            return False
    if isinstance(first, Upsert | Increment):
        values = list(map(_values, same))
        return all(
            _column_fits(by_name[name], list(map(itemgetter(name), values)))
            for name in first.values
        )
    if isinstance(first, SetMax | SetMin):
        column = by_name[first.column]
        return _column_fits(column, list(map(_value, same)), nullable=False)
    return True


def _column_fits(column: Column, values: list[Any], *, nullable: bool = True) -> bool:
    """``fits`` for every value: the values' types taken together first (C loops: a
    batch holds thousands), each value only if that cannot decide."""
    types = set(map(type, values))
    if NoneType in types:
        if not nullable:
            return False
        types.discard(NoneType)
    match column.type:
        case "text":
            if types <= _STR:
                return _storable("".join(v for v in values if v is not None))
            return all(v is None or (isinstance(v, str) and _storable(v)) for v in values)
        case "int":
            if types <= _INT:
                numbers = [v for v in values if v is not None]
                return not numbers or (min(numbers) in _INT64 and max(numbers) in _INT64)
            return all(
                v is None or (isinstance(v, int) and not isinstance(v, bool) and v in _INT64)
                for v in values
            )
        case "bool":
            return all(v is None or isinstance(v, bool) for v in values)
        case "timestamptz":
            if types <= _DATETIME:
                return None not in map(_tzinfo, filter(None, values))
            return all(
                v is None or (isinstance(v, datetime) and v.tzinfo is not None) for v in values
            )
        case "uuid":
            return types <= _UUID or all(v is None or isinstance(v, UUID) for v in values)
        case _:
            return True
