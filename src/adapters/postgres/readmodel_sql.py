"""SQL for read-model tables: DDL from table specs, and one statement per change group."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from commerce_core.projections import (
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


def _not_json(group: ChangeGroup, columns: list[Column], error: Exception) -> InvalidChangeError:
    """Names the jsonb value that could not be encoded (the other types were checked)."""
    documents = [c.name for c in columns if c.type == "jsonb"]
    for change in group.rows.values():
        values = change.values if isinstance(change, Upsert) else {}
        for name in documents:
            value = values.get(name)
            try:
                msgspec.json.encode(value)
            except (TypeError, ValueError, msgspec.EncodeError) as failed:
                return InvalidChangeError(f"{value!r} is not JSON: {failed}")
    return InvalidChangeError(f"a change of {group.table.name} is not JSON: {error}")


def _element(n: int, column: Column) -> str:
    """Column ``n`` of a row of the statement's JSON argument, as the column's type."""
    if column.type == "jsonb":
        return f"NULLIF(r -> {n}, 'null'::jsonb)"  # a JSON null stands for NULL, as None does
    if column.type == "text":
        return f"r ->> {n}"
    return f"(r ->> {n})::{PG_TYPES[column.type]}"


def group_statement(group: ChangeGroup, physical: str) -> tuple[str, list[bytes]]:
    """One statement for a change group, its rows in one JSON argument.

    The rows travel as one JSON array of arrays, unpacked by the database: msgspec
    encodes a batch's thousands of values in C, where asyncpg's array encoding
    spent several times as long in the process that applies the batch (ADR 0053).
    The values were checked to fit their columns (``check_changes``): text without
    NUL, integers within bigint, timestamps with a time zone; msgspec writes a
    ``datetime`` in RFC 3339 with its microseconds and offset, exact for timestamptz.
    """
    spec = group.table
    names = list(spec.key) + ([] if group.kind is Delete else list(group.columns))
    columns = [spec.by_name[n] for n in names]
    try:
        rows = msgspec.json.encode(list(zip(*_arrays(group), strict=True)))
    except (TypeError, ValueError, msgspec.EncodeError) as error:
        raise _not_json(group, columns, error) from error
    elements = ", ".join(_element(n, c) for n, c in enumerate(columns))
    select = f"SELECT {elements} FROM jsonb_array_elements($1::jsonb) AS r"
    table = q(physical)
    keys = ", ".join(q(k) for k in spec.key)
    if group.kind is Delete:
        return f"DELETE FROM {table} WHERE ({keys}) IN ({select})", [rows]
    insert = (
        f"INSERT INTO {table} AS t ({', '.join(q(n) for n in names)})"
        f" {select} ON CONFLICT ({keys}) DO "
    )
    return insert + _on_conflict(group), [rows]


def _arrays(group: ChangeGroup) -> list[list[Any]]:
    """The group's values column by column, key columns first (batches hold thousands
    of rows: one comprehension per column, not one row at a time)."""
    changes: list[Any] = list(group.rows.values())
    spec, kind = group.table, group.kind
    arrays = [[change.key[name] for change in changes] for name in spec.key]
    if kind is Upsert:
        arrays += [[change.values[name] for change in changes] for name in group.columns]
    elif kind is Increment:
        # a new row adds the delta to the default; see _on_conflict for others
        for name in group.columns:
            default = spec.by_name[name].default or 0
            arrays.append([change.values[name] + default for change in changes])
    elif kind is SetMax or kind is SetMin:
        arrays.append([change.value for change in changes])
    return arrays


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
