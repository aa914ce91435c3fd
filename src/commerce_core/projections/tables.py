"""Table specs: the shape of a projection's read-model tables, independent of storage.

Column types are few on purpose, so that every applier stores them the same way:
``text`` (str), ``int`` (64-bit int), ``bool``, ``timestamptz`` (aware datetime),
``uuid`` (UUID) and ``jsonb`` (any JSON value). Every table's key includes
``tenant_id``, so no row exists outside a tenant. Columns outside the key may
hold NULL: a change that creates a row sets only its own columns, and the
others take their ``default`` (NULL if none).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

ColumnType = Literal["text", "int", "bool", "timestamptz", "uuid", "jsonb"]

COLUMN_TYPES: frozenset[str] = frozenset(get_args(ColumnType))
ORDERED_TYPES: frozenset[str] = frozenset({"text", "int", "bool", "timestamptz", "uuid"})
"""Types that ``SetMax``/``SetMin`` can compare and a key may use."""

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
_MAX_TABLE_NAME = 48  # "rm_" + name + "_v" + version stays within PostgreSQL's 63 bytes
_DEFAULTABLE = frozenset({"text", "int", "bool", "jsonb"})


def check_identifier(name: str, what: str, max_length: int = 63) -> str:
    """Lower-case letters, digits and underscores: safe and stable in any store."""
    if not _IDENTIFIER.fullmatch(name) or len(name) > max_length:
        raise ValueError(f"{what} {name!r} must match [a-z][a-z0-9_]* (at most {max_length})")
    return name


@dataclass(frozen=True)
class Column:
    """A column; ``default`` fills it when a change creates the row without it."""

    name: str
    type: ColumnType
    default: Any = None

    def __post_init__(self) -> None:
        check_identifier(self.name, "column")
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")
        if self.default is not None and self.type not in _DEFAULTABLE:
            raise ValueError(f"column {self.name}: a {self.type} column cannot have a default")


@dataclass(frozen=True)
class Index:
    """A secondary index for the queries the read model serves."""

    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A read-model table: logical ``name``, primary ``key`` columns, ``columns``, ``indexes``.

    ``columns`` lists every column, key columns included.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...] = ()
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)
    key_names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        name: str,
        key: Sequence[str],
        columns: Sequence[Column],
        indexes: Sequence[Index] = (),
    ) -> None:
        object.__setattr__(self, "name", check_identifier(name, "table", _MAX_TABLE_NAME))
        object.__setattr__(self, "key", tuple(key))
        object.__setattr__(self, "columns", tuple(columns))
        object.__setattr__(self, "indexes", tuple(indexes))
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        object.__setattr__(self, "key_names", frozenset(self.key))
        self._check()

    def _check(self) -> None:
        if len(self.by_name) != len(self.columns):
            raise ValueError(f"table {self.name}: a column is named twice")
        if "tenant_id" not in self.key:
            raise ValueError(f"table {self.name}: the key must include tenant_id")
        if len(set(self.key)) != len(self.key):
            raise ValueError(f"table {self.name}: a key column is named twice")
        for name in self.key:
            column = self.by_name.get(name)
            if column is None:
                raise ValueError(f"table {self.name}: key column {name} is not a column")
            if column.type not in ORDERED_TYPES:
                raise ValueError(f"table {self.name}: key column {name} cannot be {column.type}")
        for index in self.indexes:
            unknown = [c for c in index.columns if c not in self.by_name]
            if unknown or not index.columns:
                raise ValueError(f"table {self.name}: index on unknown columns {unknown}")

    @property
    def value_columns(self) -> tuple[Column, ...]:
        """The columns outside the key."""
        return tuple(c for c in self.columns if c.name not in self.key)

    def key_of(self, key: dict[str, Any]) -> tuple[Any, ...]:
        """The row's key values in key-column order."""
        if len(self.key) == 2:  # the usual (tenant_id, id): a loop costs more than the work
            first, second = self.key
            return (key[first], key[second])
        return tuple([key[name] for name in self.key])


def physical_name(table: str, version: int) -> str:
    """The table that version ``version`` of a projection writes, e.g. ``rm_order_list_v1``."""
    return f"rm_{table}_v{version}"


def serving_name(table: str) -> str:
    """The name queries read (a view on the serving version's table), e.g. ``rm_order_list``."""
    return f"rm_{table}"


SHADOW_SUFFIXES = {"rebuild": "next", "verify": "check"}
"""What a projection's shadow tables are for -> the suffix of their physical names."""


def shadow_name(table: str, version: int, purpose: str) -> str:
    """A table built beside the live one, e.g. ``rm_order_list_v1_next`` for a rebuild.

    With ``_MAX_TABLE_NAME`` the name stays within PostgreSQL's 63 bytes for
    versions below 10 000.
    """
    return f"{physical_name(table, version)}_{SHADOW_SUFFIXES[purpose]}"
