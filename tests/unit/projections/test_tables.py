"""Table specs and change checks: what every applier refuses alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from commerce_core.projections import (
    Change,
    Column,
    Delete,
    Increment,
    Index,
    InvalidChangeError,
    SetMax,
    SetMin,
    TableSpec,
    Upsert,
    check_change,
    event_name,
    physical_name,
    serving_name,
    stream_type,
)

SPEC = TableSpec(
    "things",
    key=("tenant_id", "thing_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("thing_id", "uuid"),
        Column("label", "text"),
        Column("count", "int", default=0),
        Column("flag", "bool"),
        Column("at", "timestamptz"),
        Column("doc", "jsonb"),
    ],
)
TABLES = {"things": SPEC}
KEY: dict[str, Any] = {"tenant_id": "t1", "thing_id": uuid4()}
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_table_key_must_include_the_tenant() -> None:
    with pytest.raises(ValueError, match="tenant_id"):
        TableSpec("things", key=("thing_id",), columns=[Column("thing_id", "uuid")])


@pytest.mark.parametrize(
    ("key", "columns", "indexes"),
    [
        (("tenant_id", "missing"), [Column("tenant_id", "text")], []),
        (("tenant_id", "doc"), [Column("tenant_id", "text"), Column("doc", "jsonb")], []),
        (("tenant_id",), [Column("tenant_id", "text"), Column("tenant_id", "int")], []),
        (("tenant_id",), [Column("tenant_id", "text")], [Index(("nope",))]),
    ],
    ids=["unknown key column", "jsonb key", "column named twice", "index on unknown column"],
)
def test_a_table_spec_refuses_an_inconsistent_shape(
    key: tuple[str, ...], columns: list[Column], indexes: list[Index]
) -> None:
    with pytest.raises(ValueError, match="table things"):
        TableSpec("things", key=key, columns=columns, indexes=indexes)


@pytest.mark.parametrize("name", ["Things", "1things", "things-list", "x" * 49, 'a"b'])
def test_table_names_are_plain_lower_case_identifiers(name: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        TableSpec(name, key=("tenant_id",), columns=[Column("tenant_id", "text")])


def test_only_simple_types_take_a_column_default() -> None:
    with pytest.raises(ValueError, match="cannot have a default"):
        Column("at", "timestamptz", default=NOW)
    assert Column("tags", "jsonb", default=[]).default == []


def test_each_projection_version_has_its_own_tables_behind_one_serving_name() -> None:
    assert physical_name("order_list", 1) == "rm_order_list_v1"
    assert physical_name("order_list", 2) == "rm_order_list_v2"
    assert serving_name("order_list") == "rm_order_list"


def test_an_event_type_names_its_stream_type_and_event() -> None:
    topic = "commerce_core.ordering.order.order:Order.Placed"
    assert stream_type(topic) == "Order"
    assert event_name(topic) == "Placed"
    assert stream_type("pkg:Thing") == "Thing"


@pytest.mark.parametrize(
    "change",
    [
        Upsert("things", KEY, {"label": "a", "count": 3, "flag": True, "at": NOW, "doc": [1]}),
        Upsert("things", KEY, {"label": None, "doc": {"a": None}}),
        Upsert("things", KEY),
        Increment("things", KEY, {"count": -(2**63)}),
        SetMax("things", KEY, "at", NOW),
        SetMin("things", KEY, "label", "a"),
        Delete("things", KEY),
    ],
)
def test_changes_that_fit_their_table_pass(change: Change) -> None:
    assert check_change(change, TABLES) is SPEC


@pytest.mark.parametrize(
    "change",
    [
        Upsert("nothing", KEY, {"label": "a"}),
        Upsert("things", {"tenant_id": "t1"}, {"label": "a"}),
        Upsert("things", {**KEY, "label": "a"}, {}),
        Upsert("things", {**KEY, "tenant_id": None}, {}),
        Upsert("things", {**KEY, "thing_id": str(uuid4())}, {}),
        Upsert("things", KEY, {"nope": 1}),
        Upsert("things", KEY, {"tenant_id": "t2"}),
        Upsert("things", KEY, {"label": 1}),
        Upsert("things", KEY, {"label": "nul\x00"}),
        Upsert("things", KEY, {"count": True}),
        Upsert("things", KEY, {"count": 2**63}),
        Upsert("things", KEY, {"flag": 1}),
        Upsert("things", KEY, {"at": datetime(2025, 1, 1)}),  # naive
        Increment("things", KEY, {"label": 1}),
        Increment("things", KEY, {}),
        SetMax("things", KEY, "doc", 1),
        SetMax("things", KEY, "at", None),
        SetMin("things", KEY, "nope", 1),
        SetMax("things", KEY, "count", 1),
    ],
    ids=[
        "unknown table",
        "incomplete key",
        "extra key column",
        "null key",
        "key of wrong type",
        "unknown column",
        "key column as value",
        "text gets int",
        "text with NUL",
        "int gets bool",
        "int beyond 64 bits",
        "bool gets int",
        "naive datetime",
        "increment of text",
        "empty increment",
        "max of jsonb",
        "max of null",
        "min of unknown column",
        "max of a column with a default",
    ],
)
def test_changes_that_do_not_fit_are_refused(change: Change) -> None:
    with pytest.raises(InvalidChangeError):
        check_change(change, TABLES)
