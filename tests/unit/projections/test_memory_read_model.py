"""The memory applier: the reference semantics of each change, one at a time."""

from __future__ import annotations

import pytest

from adapters.memory.readmodel import MemoryReadModel
from commerce_core.eventstore import START, Position
from commerce_core.projections import (
    Change,
    CheckpointConflictError,
    Delete,
    Increment,
    InvalidChangeError,
    ProjectionState,
    SetMax,
    SetMin,
    Upsert,
)
from tests.unit.projections.things import Things, at, key

P1, P2 = Position(1, 1), Position(2, 2)


@pytest.fixture
async def model() -> MemoryReadModel:
    model = MemoryReadModel()
    await model.prepare(Things())
    return model


async def apply(model: MemoryReadModel, *changes: Change) -> None:
    projection = Things()
    checkpoint = await model.checkpoint("things", 1)
    assert checkpoint is not None
    position = Position(checkpoint.position.tx_id + 1, checkpoint.position.global_position + 1)
    await model.apply(projection, changes, checkpoint.position, position)


async def test_an_upsert_creates_the_row_with_defaults_then_sets_only_its_columns(
    model: MemoryReadModel,
) -> None:
    k = key()
    await apply(model, Upsert("things", k, {"label": "a", "at": at(0)}))
    assert await model.row("things", **k) == {
        **k,
        "label": "a",
        "count": 0,
        "total": None,
        "score": 10,
        "flag": False,
        "at": at(0),
        "ref": None,
        "doc": {"new": True},
    }

    await apply(model, Upsert("things", k, {"label": "b", "doc": [1, "x"]}))

    row = await model.row("things", **k)
    assert row is not None
    assert (row["label"], row["at"], row["doc"]) == ("b", at(0), [1, "x"])


async def test_increments_add_to_the_column_and_a_new_row_starts_at_the_default(
    model: MemoryReadModel,
) -> None:
    k = key()
    await apply(model, Increment("things", k, {"count": 2, "total": 500, "score": 1}))
    await apply(model, Increment("things", k, {"count": 1, "total": -200, "score": 1}))

    row = await model.row("things", **k)
    assert row is not None
    assert (row["count"], row["total"], row["score"]) == (3, 300, 12)


async def test_an_increment_of_a_null_column_counts_from_zero(model: MemoryReadModel) -> None:
    k = key()
    await apply(model, Upsert("things", k, {"label": "a"}))
    await apply(model, Increment("things", k, {"total": 7}))

    row = await model.row("things", **k)
    assert row is not None
    assert row["total"] == 7


async def test_set_max_and_set_min_keep_the_extremes(model: MemoryReadModel) -> None:
    k = key()
    await apply(model, SetMax("things", k, "at", at(5)), SetMin("things", k, "label", "m"))
    await apply(model, SetMax("things", k, "at", at(3)), SetMin("things", k, "label", "z"))
    await apply(model, SetMax("things", k, "at", at(9)), SetMin("things", k, "label", "c"))

    row = await model.row("things", **k)
    assert row is not None
    assert (row["at"], row["label"]) == (at(9), "c")


async def test_set_max_fills_a_null_column(model: MemoryReadModel) -> None:
    k = key()
    await apply(model, Upsert("things", k))
    await apply(model, SetMax("things", k, "at", at(1)))

    row = await model.row("things", **k)
    assert row is not None
    assert row["at"] == at(1)


async def test_a_delete_removes_the_row_and_a_missing_row_is_no_error(
    model: MemoryReadModel,
) -> None:
    k, other = key(), key()
    await apply(model, Upsert("things", k), Upsert("things", other))
    await apply(model, Delete("things", k), Delete("things", key()))

    assert await model.row("things", **k) is None
    assert await model.row("things", **other) is not None


async def test_rows_are_filtered_by_column_and_sorted_by_key(model: MemoryReadModel) -> None:
    first, second = key("t1"), key("t1")
    await apply(
        model,
        Upsert("things", key("t2"), {"label": "x"}),
        Upsert("things", second, {"label": "x"}),
        Upsert("things", first, {"label": "x"}),
        Upsert("things", key("t1"), {"label": "y"}),
    )

    rows = await model.rows("things", tenant_id="t1", label="x")

    assert [r["thing_id"] for r in rows] == sorted([first["thing_id"], second["thing_id"]])


async def test_a_batch_with_a_bad_change_applies_nothing(model: MemoryReadModel) -> None:
    k = key()
    with pytest.raises(InvalidChangeError):
        await apply(
            model,
            Upsert("things", k, {"label": "a"}),
            Upsert("things", k, {"doc": {"x": object()}}),
        )

    assert await model.rows("things") == []
    checkpoint = await model.checkpoint("things", 1)
    assert checkpoint is not None
    assert checkpoint.position == START


async def test_a_batch_from_a_stale_checkpoint_is_refused(model: MemoryReadModel) -> None:
    await model.apply(Things(), [Upsert("things", key())], START, P1)

    with pytest.raises(CheckpointConflictError):
        await model.apply(Things(), [Upsert("things", key())], START, P2)

    assert len(await model.rows("things")) == 1


async def test_the_first_version_serves_and_a_new_one_builds_beside_it(
    model: MemoryReadModel,
) -> None:
    k = key()
    await apply(model, Upsert("things", k, {"label": "v1"}))

    checkpoint = await model.prepare(Things(version=2))
    await model.apply(Things(2), [Upsert("things", k, {"label": "v2"})], START, P1)

    assert (checkpoint.serving, checkpoint.state) == (False, ProjectionState.REBUILDING)
    assert [r["label"] for r in await model.rows("things")] == ["v1"]
    assert [r["label"] for r in await model.rows("things", version=2)] == ["v2"]

    await model.promote(Things(version=2))

    assert [r["label"] for r in await model.rows("things")] == ["v2"]
    assert [(c.version, c.serving) for c in await model.checkpoints()] == [(1, False), (2, True)]
