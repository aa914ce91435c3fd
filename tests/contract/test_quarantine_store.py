"""The quarantine part of the read-model store: the same on the memory store and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.memory.readmodel import MemoryReadModel
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.eventstore import Position
from commerce_core.projections import (
    Increment,
    InvalidChangeError,
    QuarantineChangedError,
    QuarantinedEvent,
    ReadModelStore,
    Upsert,
)
from tests.conftest import PgSchema
from tests.unit.projections.things import Things, key


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


def held(tenant: str, n: int, *, failed: bool = False) -> QuarantinedEvent:
    return QuarantinedEvent(
        name="things",
        version=1,
        tenant_id=tenant,
        position=Position(n, n),
        event_id=uuid.uuid4(),
        stream_id=uuid.uuid4(),
        stream_version=1,
        event_type="pkg.thing:Thing.Made",
        failed=failed,
        error="ValueError: no" if failed else "held behind",
    )


async def test_a_batch_adds_its_quarantine_with_its_changes_and_checkpoint(
    read_model: ReadModelStore,
) -> None:
    thing = key("t2")
    first, behind = held("t1", 1, failed=True), held("t1", 2)

    await read_model.apply(
        Things(),
        [Upsert("things", thing, {"label": "ok"})],
        Position(0, 0),
        Position(2, 2),
        quarantine=[first, behind],
        held=frozenset(),
    )

    assert await read_model.quarantined("things", 1) == [first, behind]
    assert await read_model.quarantined(tenant_id="t2") == []
    assert [r["label"] for r in await read_model.rows("things")] == ["ok"]


async def test_a_batch_built_on_a_stale_quarantine_applies_nothing(
    read_model: ReadModelStore,
) -> None:
    entry = held("t1", 1, failed=True)
    await read_model.apply(Things(), [], Position(0, 0), Position(1, 1), quarantine=[entry])

    with pytest.raises(QuarantineChangedError):  # the runner thinks nobody is held
        await read_model.apply(
            Things(),
            [Upsert("things", key("t1"), {"label": "x"})],
            Position(1, 1),
            Position(2, 2),
            held=frozenset(),
        )

    assert await read_model.rows("things") == []
    [checkpoint] = await read_model.checkpoints()
    assert checkpoint.position == Position(1, 1)


async def test_release_applies_the_changes_and_removes_the_event_once(
    read_model: ReadModelStore,
) -> None:
    entry = held("t1", 1, failed=True)
    await read_model.apply(Things(), [], Position(0, 0), Position(1, 1), quarantine=[entry])
    thing = key("t1")
    change = Increment("things", thing, {"count": 1})

    results = await asyncio.gather(
        read_model.release(Things(), entry, [change]),
        read_model.release(Things(), entry, [change]),
        return_exceptions=True,
    )

    assert sorted(type(r).__name__ for r in results) == ["NoneType", "QuarantineChangedError"]
    assert [r["count"] for r in await read_model.rows("things")] == [1]
    assert await read_model.quarantined() == []
    [checkpoint] = await read_model.checkpoints()
    assert checkpoint.position == Position(1, 1)  # a release never moves the checkpoint


async def test_a_release_whose_change_does_not_fit_keeps_the_event(
    read_model: ReadModelStore,
) -> None:
    entry = held("t1", 1, failed=True)
    await read_model.apply(Things(), [], Position(0, 0), Position(1, 1), quarantine=[entry])

    with pytest.raises(InvalidChangeError):
        await read_model.release(Things(), entry, [Upsert("things", key(), {"count": 2**63})])
    await read_model.mark_failed(entry, "InvalidChangeError: too big")

    [kept] = await read_model.quarantined()
    assert (kept.event_id, kept.failed, kept.error) == (
        entry.event_id,
        True,
        "InvalidChangeError: too big",
    )
