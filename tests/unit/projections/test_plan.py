"""Grouping a batch into set-based statements must not change its effect."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings

from adapters.memory.readmodel import MemoryReadModel
from adapters.postgres.readmodel_sql import group_statement
from commerce_core.eventstore import Position
from commerce_core.projections import Change, Delete, Increment, SetMax, SetMin, Upsert
from commerce_core.projections.checks import check_changes
from commerce_core.projections.plan import plan
from tests.unit.projections.strategies import changes
from tests.unit.projections.things import Things, at, key

TABLES = Things().table_specs()


async def one_by_one(batch: list[Change]) -> MemoryReadModel:
    model = MemoryReadModel()
    await model.prepare(Things())
    for n, change in enumerate(batch):
        await model.apply(Things(), [change], Position(n, n), Position(n + 1, n + 1))
    return model


@settings(max_examples=300, deadline=None)
@given(batch=changes())
async def test_planned_groups_leave_the_rows_that_changes_one_by_one_leave(
    batch: list[Change],
) -> None:
    groups = plan(batch, TABLES)
    regrouped = [change for group in groups for change in group.rows.values()]

    expected = await one_by_one(batch)
    actual = await one_by_one(regrouped)

    assert actual.tables == expected.tables
    assert len(regrouped) <= len(batch)


def test_a_batch_of_similar_events_becomes_one_statement_per_kind_of_change() -> None:
    keys = [key() for _ in range(5)]
    batch: list[Change] = []
    for n in range(1000):
        k = keys[n % 5]
        batch += [
            Increment("things", k, {"count": 1}),
            SetMin("things", k, "label", f"{n:04}"),
            SetMax("things", k, "at", at(n)),
        ]

    groups = plan(batch, TABLES)

    assert [(g.kind, len(g.rows)) for g in groups] == [(Increment, 5), (SetMin, 5), (SetMax, 5)]
    counts = list(groups[0].rows.values())
    assert {c.key["thing_id"] for c in counts} == {k["thing_id"] for k in keys}
    assert all(isinstance(c, Increment) and c.values == {"count": 200} for c in counts)


def test_a_change_stays_behind_an_earlier_change_of_its_column_by_another_kind() -> None:
    k, other = key(), key()
    batch: list[Change] = [
        Increment("things", k, {"count": 1}),
        Upsert("things", other, {"count": 5}),
        Upsert("things", k, {"count": 0}),
        Increment("things", k, {"count": 2}),
        Increment("things", other, {"count": 2}),
    ]

    groups = plan(batch, TABLES)

    assert [(g.kind, len(g.rows)) for g in groups] == [(Increment, 1), (Upsert, 2), (Increment, 2)]


def test_nothing_on_a_row_moves_across_its_delete() -> None:
    k = key()
    batch: list[Change] = [
        Upsert("things", k, {"label": "a"}),
        Delete("things", k),
        Upsert("things", k, {"label": "b"}),
        Increment("things", k, {"count": 1}),
    ]

    groups = plan(batch, TABLES)

    assert [g.kind for g in groups] == [Upsert, Delete, Upsert, Increment]


class _Named(Upsert, frozen=True):
    """A subclass of a change, as a projection might define."""


def test_a_subclass_of_a_change_is_checked_grouped_and_written_as_its_kind() -> None:
    batch: list[Change] = [
        Upsert("things", key(), {"label": "a"}),
        _Named("things", key(), {"label": "b"}),
    ]

    check_changes(batch, TABLES)
    groups = plan(batch, TABLES)

    assert [(g.kind, len(g.rows)) for g in groups] == [(Upsert, 2)]
    _, (rows,) = group_statement(groups[0], "rm_things_v1")
    assert sorted(row[-1] for row in msgspec.json.decode(rows)) == ["a", "b"]
