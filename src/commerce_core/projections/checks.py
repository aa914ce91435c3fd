"""Checks a change against its table spec, so that every applier refuses the same things."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from commerce_core.projections.changes import Change, Delete, Increment, SetMax, SetMin, Upsert
from commerce_core.projections.tables import ORDERED_TYPES, Column, TableSpec

_INT64 = range(-(2**63), 2**63)


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
            # PostgreSQL text cannot hold NUL; refuse it everywhere alike
            return isinstance(value, str) and "\x00" not in value
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
