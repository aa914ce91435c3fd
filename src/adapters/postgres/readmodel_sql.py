"""SQL for read-model tables: DDL from table specs, and one statement per change group."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from commerce_core.projections import (
    Change,
    Column,
    Delete,
    Increment,
    InvalidChangeError,
    SetMax,
    SetMin,
    TableSpec,
    Upsert,
)
from commerce_core.projections.plan import ChangeGroup

PG_TYPES = {
    "text": "text",
    "int": "bigint",
    "bool": "boolean",
    "timestamptz": "timestamptz",
    "uuid": "uuid",
    "jsonb": "jsonb",
}
TYPNAMES = {
    "text": "text",
    "int": "int8",
    "bool": "bool",
    "timestamptz": "timestamptz",
    "uuid": "uuid",
    "jsonb": "jsonb",
}


def q(identifier: str) -> str:
    """A quoted identifier (names are checked to be [a-z][a-z0-9_]*, so no escaping)."""
    return f'"{identifier}"'


def _literal(column: Column) -> str:
    value = column.default
    match column.type:
        case "int":
            return str(int(value))
        case "bool":
            return "true" if value else "false"
        case "jsonb":
            text = msgspec.json.encode(value).decode()
            return "'" + text.replace("'", "''") + "'::jsonb"
        case _:
            return "'" + str(value).replace("'", "''") + "'"


def _column_ddl(column: Column, key: tuple[str, ...]) -> str:
    ddl = f"{q(column.name)} {PG_TYPES[column.type]}"
    if column.default is not None:
        ddl += f" DEFAULT {_literal(column)}"
    if column.name in key:
        ddl += " NOT NULL"
    return ddl


def index_name(table: str, columns: tuple[str, ...], unique: bool) -> str:
    """The name of an index of a physical table (hashed when too long)."""
    name = f"{table}_{'_'.join(columns)}_{'key' if unique else 'idx'}"
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{table[:48]}_{digest}_idx"


def create_table(spec: TableSpec, physical: str, *, secondary: bool = True) -> list[str]:
    """CREATE TABLE and CREATE INDEX statements, all IF NOT EXISTS.

    ``secondary=False`` leaves out the indexes that only serve queries (the
    non-unique ones): an empty table about to take a whole history fills
    faster without them, and ``create_indexes`` adds them afterwards. Unique
    indexes always come with the table, since they refuse changes.
    """
    columns = [_column_ddl(c, spec.key) for c in spec.columns]
    columns.append(f"PRIMARY KEY ({', '.join(q(k) for k in spec.key)})")
    statements = [f"CREATE TABLE IF NOT EXISTS {q(physical)} (\n  " + ",\n  ".join(columns) + ")"]
    return statements + create_indexes(spec, physical, unique_only=not secondary)


def create_indexes(spec: TableSpec, physical: str, *, unique_only: bool = False) -> list[str]:
    """CREATE INDEX IF NOT EXISTS statements for the table's indexes."""
    statements = []
    for index in spec.indexes:
        if unique_only and not index.unique:
            continue
        unique = "UNIQUE " if index.unique else ""
        name = index_name(physical, index.columns, index.unique)
        cols = ", ".join(q(c) for c in index.columns)
        statements.append(f"CREATE {unique}INDEX IF NOT EXISTS {q(name)} ON {q(physical)} ({cols})")
    return statements


def _encode(column: Column, value: Any) -> Any:
    if column.type != "jsonb" or value is None:
        return value
    try:
        return msgspec.json.encode(value)
    except (TypeError, msgspec.EncodeError) as error:
        raise InvalidChangeError(f"{value!r} is not JSON: {error}") from error


def group_statement(group: ChangeGroup, physical: str) -> tuple[str, list[list[Any]]]:
    """One statement for a change group, with one array argument per column."""
    spec = group.table
    names = list(spec.key) + ([] if group.kind is Delete else list(group.columns))
    columns = [spec.by_name[n] for n in names]
    rows = [_row(change, spec, names) for change in group.rows.values()]
    # one array per column: the rows transposed (a tight loop: batches hold thousands)
    arrays: list[list[Any]] = [list(values) for values in zip(*rows, strict=True)]
    if not arrays:
        arrays = [[] for _ in names]
    for n, column in enumerate(columns):
        if column.type == "jsonb":
            arrays[n] = [_encode(column, value) for value in arrays[n]]
    params = ", ".join(f"${i}::{PG_TYPES[c.type]}[]" for i, c in enumerate(columns, start=1))
    table = q(physical)
    keys = ", ".join(q(k) for k in spec.key)
    if group.kind is Delete:
        return f"DELETE FROM {table} WHERE ({keys}) IN (SELECT * FROM unnest({params}))", arrays
    insert = (
        f"INSERT INTO {table} AS t ({', '.join(q(n) for n in names)})"
        f" SELECT * FROM unnest({params}) ON CONFLICT ({keys}) DO "
    )
    return insert + _on_conflict(group), arrays


def _row(change: Change, spec: TableSpec, names: list[str]) -> list[Any]:
    """The change's values in the order of ``names`` (key columns first)."""
    row = change.key
    if isinstance(change, Upsert):
        row = {**row, **change.values}
    elif isinstance(change, SetMax | SetMin):
        row = {**row, change.column: change.value}
    elif isinstance(change, Increment):
        # a new row adds the delta to the default; see _on_conflict for others
        by_name = spec.by_name
        row = {**row, **{n: d + (by_name[n].default or 0) for n, d in change.values.items()}}
    return [row[name] for name in names]


def _on_conflict(group: ChangeGroup) -> str:
    if not group.columns:
        return "NOTHING"
    sets = []
    for name in group.columns:
        c, new = q(name), f"EXCLUDED.{q(name)}"
        # text compares by code point, as everywhere else, whatever the database's collation
        collate = ' COLLATE "C"' if group.table.by_name[name].type == "text" else ""
        if group.kind is Increment:
            default = group.table.by_name[name].default or 0
            delta = f"({new} - ({int(default)}))" if default else new
            sets.append(f"{c} = COALESCE(t.{c}, 0) + {delta}")
        elif group.kind is SetMax:
            sets.append(f"{c} = GREATEST(t.{c}{collate}, {new})")
        elif group.kind is SetMin:
            sets.append(f"{c} = LEAST(t.{c}{collate}, {new})")
        else:
            sets.append(f"{c} = {new}")
    return "UPDATE SET " + ", ".join(sets)
