"""Read-model changes: what a projection asks for, as plain data.

A projection never touches storage. It returns these values and an applier
(memory or PostgreSQL) carries them out, all of one batch of events in one
transaction together with the checkpoint. Each change names a logical table of
the projection (``TableSpec.name``) and a row by its full primary key, which
always includes ``tenant_id``.

A change to a row that does not exist first creates it with the key and every
column's default (NULL if none), then acts on it as on any row. NULL counts as
0 for ``Increment`` and loses to any value in ``SetMax``/``SetMin`` (whose
columns therefore take no default).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Upsert(msgspec.Struct, frozen=True):
    """Creates the row or sets these columns on it; columns not named keep their value."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any] = {}


class Increment(msgspec.Struct, frozen=True):
    """Adds each delta to its integer column (a new row: to the column's default)."""

    table: str
    key: dict[str, Any]
    values: dict[str, int]


class SetMax(msgspec.Struct, frozen=True):
    """Keeps the greater of the column and ``value`` (e.g. the last order's time)."""

    table: str
    key: dict[str, Any]
    column: str
    value: Any


class SetMin(msgspec.Struct, frozen=True):
    """Keeps the lesser of the column and ``value`` (e.g. the first order's time)."""

    table: str
    key: dict[str, Any]
    column: str
    value: Any


class Delete(msgspec.Struct, frozen=True):
    """Removes the row if it exists."""

    table: str
    key: dict[str, Any]


Change = Upsert | Increment | SetMax | SetMin | Delete
