"""The read-model store contract: the same changes leave the same rows in every applier.

The memory applier, applying changes one at a time, is the reference; each test
runs against it and against PostgreSQL, which groups a batch into set-based
statements in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory.readmodel import MemoryReadModel
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.eventstore import START, Position
from commerce_core.projections import (
    Change,
    CheckpointConflictError,
    Delete,
    Increment,
    InvalidChangeError,
    ProjectionState,
    ReadModelStore,
    SetMax,
    SetMin,
    Upsert,
)
from tests.conftest import PgSchema
from tests.unit.projections.strategies import TENANTS, changes
from tests.unit.projections.things import Things, at, key


@pytest.fixture(params=["memory", "postgres"])
async def read_model(request: pytest.FixtureRequest) -> AsyncIterator[ReadModelStore]:
    if request.param == "memory":
        model: ReadModelStore = MemoryReadModel()
        await model.prepare(Things())
        yield model
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)
    model = PostgresReadModel(pool)
    await model.prepare(Things())
    yield model
    await pool.close()
    await schema.drop()


async def apply(model: ReadModelStore, changes: list[Change], version: int = 1) -> Position:
    """Applies one batch after the current checkpoint; returns the new checkpoint."""
    checkpoint = next(
        c for c in await model.checkpoints() if c.name == "things" and c.version == version
    )
    before = checkpoint.position
    after = Position(before.tx_id + 1, before.global_position + 1)
    await model.apply(Things(version), changes, before, after)
    return after


async def reference(batch: list[Change]) -> MemoryReadModel:
    model = MemoryReadModel()
    await model.prepare(Things())
    for n, change in enumerate(batch):
        await model.apply(Things(), [change], Position(0, n), Position(0, n + 1))
    return model


def with_tenants(batch: list[Change], names: dict[str, str]) -> list[Change]:
    def moved(change: Change) -> Change:
        return type(change)(
            **{
                **_fields(change),
                "key": {**change.key, "tenant_id": names[change.key["tenant_id"]]},
            }
        )

    return [moved(c) for c in batch]


def _fields(change: Change) -> dict[str, Any]:
    return {name: getattr(change, name) for name in change.__struct_fields__}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=changes())
async def test_a_batch_leaves_the_rows_its_changes_leave_one_by_one(
    read_model: ReadModelStore, batch: list[Change]
) -> None:
    # each example writes under tenants of its own, so examples never see each other's rows
    names = {t: f"{t}-{uuid.uuid4().hex[:8]}" for t in TENANTS}
    batch = with_tenants(batch, names)
    expected = await reference(batch)

    await apply(read_model, batch)

    for tenant in names.values():
        assert await read_model.rows("things", tenant_id=tenant) == await expected.rows(
            "things", tenant_id=tenant
        )


INT64 = st.integers(-(2**63), 2**63 - 1)
ZONES = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
TEXTS = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40
)
JSON = st.recursive(
    st.none() | st.booleans() | INT64 | TEXTS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=8,
)
ANY_FITTING = st.fixed_dictionaries(
    {
        "label": TEXTS,
        "total": INT64,
        "flag": st.booleans(),
        "at": st.datetimes(timezones=ZONES),
        "ref": st.uuids(),
        "doc": JSON,
    }
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ANY_FITTING, min_size=1, max_size=6))
async def test_any_value_that_fits_its_column_reads_back_as_it_was_given(
    read_model: ReadModelStore, rows: list[dict[str, Any]]
) -> None:
    # every text (quotes, backslashes, controls, any plane), bigint's ends, any time zone
    keys = [key(f"fits-{uuid.uuid4().hex[:8]}") for _ in rows]
    await apply(read_model, [Upsert("things", k, v) for k, v in zip(keys, rows, strict=True)])

    for k, given_values in zip(keys, rows, strict=True):
        [row] = await read_model.rows("things", **k)
        assert {name: row[name] for name in given_values} == given_values


async def test_event_count_style_changes_build_one_row_per_group(
    read_model: ReadModelStore,
) -> None:
    k = key()
    batch: list[Change] = []
    for n in (5, 2, 9, 7):
        batch += [
            Increment("things", k, {"count": 1}),
            SetMin("things", k, "at", at(n)),
            SetMax("things", k, "label", f"event {n}"),
        ]
    await apply(read_model, batch[:6])
    await apply(read_model, [*batch[6:], Upsert("thing_tags", {**k, "tag": "x"})])

    [row] = await read_model.rows("things", **k)
    assert (row["count"], row["at"], row["label"]) == (4, at(2), "event 9")
    assert await read_model.rows("thing_tags") == [{**k, "tag": "x"}]


async def test_rows_take_defaults_and_round_trip_every_type(read_model: ReadModelStore) -> None:
    k, ref = key(), uuid.uuid4()
    doc = {"lines": [{"sku": "A-1", "qty": 2}], "note": None, "ok": True}
    await apply(
        read_model,
        [
            Upsert("things", k, {"label": "ä 日本", "at": at(1), "ref": ref, "doc": doc}),
            Increment("things", key(), {"score": 5}),
        ],
    )

    first, *_ = await read_model.rows("things", thing_id=k["thing_id"])
    assert first == {
        **k,
        "label": "ä 日本",
        "count": 0,
        "total": None,
        "score": 10,
        "flag": False,
        "at": at(1),
        "ref": ref,
        "doc": doc,
    }
    assert [r["score"] for r in await read_model.rows("things", label=None)] == [15]


async def test_none_is_null_in_every_type_and_a_time_keeps_its_instant_in_any_zone(
    read_model: ReadModelStore,
) -> None:
    k = key()
    full = {"label": "x", "total": 5, "flag": True, "at": at(1), "ref": uuid.uuid4(), "doc": [1]}
    await apply(read_model, [Upsert("things", k, full)])
    india = timezone(timedelta(hours=5, minutes=30))
    emptied = {name: None for name in full} | {"at": at(2).astimezone(india)}
    await apply(read_model, [Upsert("things", k, emptied)])

    [row] = await read_model.rows("things", label=None, total=None, flag=None, ref=None, doc=None)
    assert (row["thing_id"], row["at"]) == (k["thing_id"], at(2))


async def test_a_delete_then_an_upsert_recreates_the_row_from_defaults(
    read_model: ReadModelStore,
) -> None:
    k = key()
    await apply(
        read_model, [Increment("things", k, {"count": 3}), Upsert("things", k, {"flag": True})]
    )
    await apply(read_model, [Delete("things", k), Upsert("things", k, {"label": "again"})])

    [row] = await read_model.rows("things", **k)
    assert (row["count"], row["flag"], row["label"]) == (0, False, "again")


@pytest.mark.parametrize(
    "bad",
    [
        Upsert("things", {"tenant_id": "t1"}, {"label": "no thing_id"}),
        Upsert("things", key(), {"doc": {"x": object()}}),
        Upsert("things", key(), {"ref": 2}),
        Upsert("things", key(), {"label": "lone \ud800 surrogate"}),
    ],
    ids=["incomplete key", "not JSON", "wrong type", "not UTF-8"],
)
async def test_a_batch_with_a_change_that_does_not_fit_applies_nothing(
    read_model: ReadModelStore, bad: Change
) -> None:
    with pytest.raises(InvalidChangeError):
        await apply(read_model, [Upsert("things", key(), {"label": "first"}), bad])

    assert await read_model.rows("things") == []
    [checkpoint] = await read_model.checkpoints()
    assert checkpoint.position == START


async def test_a_batch_from_a_stale_checkpoint_applies_nothing(read_model: ReadModelStore) -> None:
    await apply(read_model, [Increment("things", key(), {"count": 1})])

    with pytest.raises(CheckpointConflictError):
        await read_model.apply(
            Things(), [Increment("things", key(), {"count": 1})], START, Position(9, 9)
        )

    assert len(await read_model.rows("things")) == 1
    [checkpoint] = await read_model.checkpoints()
    assert checkpoint.position == Position(1, 1)


async def test_preparing_again_keeps_rows_and_checkpoint(read_model: ReadModelStore) -> None:
    after = await apply(read_model, [Upsert("things", key())])

    checkpoint = await read_model.prepare(Things())

    assert (checkpoint.position, checkpoint.serving) == (after, True)
    assert len(await read_model.rows("things")) == 1


async def test_a_new_version_builds_beside_the_serving_one_until_promoted(
    read_model: ReadModelStore,
) -> None:
    k = key()
    await apply(read_model, [Upsert("things", k, {"label": "v1"})])

    v2 = await read_model.prepare(Things(version=2))
    await apply(read_model, [Upsert("things", k, {"label": "v2"})], version=2)
    await read_model.set_state(Things(version=2), ProjectionState.LIVE)

    assert (v2.serving, v2.state, v2.position) == (False, ProjectionState.REBUILDING, START)
    assert [r["label"] for r in await read_model.rows("things")] == ["v1"]
    assert [r["label"] for r in await read_model.rows("things", version=2)] == ["v2"]

    await read_model.promote(Things(version=2))

    assert [r["label"] for r in await read_model.rows("things")] == ["v2"]
    assert [(c.version, c.serving, c.state) for c in await read_model.checkpoints()] == [
        (1, False, ProjectionState.CATCHING_UP),
        (2, True, ProjectionState.LIVE),
    ]


async def test_a_failure_is_recorded_with_its_error(read_model: ReadModelStore) -> None:
    await read_model.set_state(Things(), ProjectionState.FAILED, "boom at event 7")

    [checkpoint] = await read_model.checkpoints()
    assert (checkpoint.state, checkpoint.error) == (ProjectionState.FAILED, "boom at event 7")
