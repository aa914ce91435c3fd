"""Batches on PostgreSQL leave exactly the rows (and the quarantine) that one event at a time does.

The runner groups a batch's changes into one statement per table and kind
(``commerce_core.projections.plan``), checks them, and on a refusal falls back
to checking each event and then to one event at a time (ADR 0045). A history
of random changes, with poison in it (a value that does not fit its column, an
integer that overflows only once added up in the database), is applied in
batches of a random size and again one event per batch; both must end with the
same rows and hold the same events for the same tenants.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory.eventstore import MemoryEventStore
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.eventstore import AppendStream, EventMetadata, NewEvent, RecordedEvent
from commerce_core.projections import (
    Change,
    Increment,
    Projection,
    ProjectionState,
    SetMax,
    SetMin,
    Upsert,
)
from commerce_core.projections.runner import ProjectionRunner
from tests.conftest import PgSchema
from tests.unit.projections.strategies import TENANTS, changes
from tests.unit.projections.things import TAGS, THINGS

TICKED = "tests.nowhere:Script.Ran"
HUGE = 2**62  # fits a bigint; two of them on one row do not


class Scripted(Projection):
    """Each event's changes are looked up by its id: any history, no domain code."""

    name = "things"
    decodes = False

    def __init__(self, version: int, script: dict[UUID, list[Change]]) -> None:
        self.version = version
        self.tables = (THINGS, TAGS)
        self._script = script

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        return self._script[event.event_id]


def _without_ref(batch: list[Change]) -> list[Change]:
    """Leaves out the unique column ``ref``: a batch checks a unique index on its end state,
    one event at a time on every state in between, so they may refuse differently."""
    kept: list[Change] = []
    for change in batch:
        if isinstance(change, Upsert):
            kept.append(Upsert(change.table, change.key, {**change.values, "ref": None}))
        elif not (isinstance(change, SetMax | SetMin) and change.column == "ref"):
            kept.append(change)
    return [c for c in kept if not (isinstance(c, Upsert) and set(c.values) == {"ref"})]


def _poison(tenant: str) -> st.SearchStrategy[list[Change]]:
    """An event whose change does not fit: refused by the checks, or only by the database."""
    key = st.sampled_from([UUID(int=1), UUID(int=2)]).map(
        lambda i: {"tenant_id": tenant, "thing_id": i}
    )

    def nul(k: dict[str, Any]) -> list[Change]:
        return [Upsert("things", k, {"label": "bad\x00"})]

    def overflow(k: dict[str, Any]) -> list[Change]:
        return [Increment("things", k, {"total": HUGE})]

    return key.map(nul) | key.map(overflow)


def _event(tenant: str) -> st.SearchStrategy[tuple[str, list[Change]]]:
    ordinary = changes([tenant], max_size=4).map(_without_ref)
    # poison is rare: a tenant's first one holds all its later events
    made = st.integers(0, 19).flatmap(lambda n: _poison(tenant) if n == 0 else ordinary)
    return st.tuples(st.just(tenant), made)


histories = st.lists(st.sampled_from(TENANTS).flatmap(_event), min_size=1, max_size=30)
_versions = itertools.count(1)


@pytest.fixture
async def pool(pg_schema: PgSchema) -> AsyncIterator[asyncpg.Pool]:
    """One schema for all of a test's examples: each example builds versions of its own."""
    pool = await pg_schema.pool(max_size=6)
    yield pool
    await pool.close()


async def _history(events: Sequence[tuple[str, list[Change]]]) -> tuple[MemoryEventStore, Any]:
    store = MemoryEventStore()
    script: dict[UUID, list[Change]] = {}
    for tenant, made in events:
        event_id = uuid4()
        script[event_id] = made
        stream = AppendStream(uuid4(), 0, [NewEvent(event_id, TICKED, b"{}")])
        await store.append([stream], EventMetadata(tenant_id=tenant))
    return store, script


async def _run(
    store: MemoryEventStore, read_model: PostgresReadModel, projection: Scripted, batch_size: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[str, UUID, bool]]]:
    runner = ProjectionRunner(store, read_model, [projection], batch_size=batch_size)
    head = await store.head()
    async with runner:
        async with asyncio.timeout(20):
            await runner.wait_for("things", head)
            await runner.wait_for_state("things", ProjectionState.LIVE)
    version = projection.version
    held = [
        (e.tenant_id, e.event_id, e.failed) for e in await read_model.quarantined("things", version)
    ]
    return (
        await read_model.rows("things", version),
        await read_model.rows("thing_tags", version),
        held,
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=histories, batch_size=st.integers(2, 12))
async def test_batches_leave_the_rows_and_quarantine_of_one_event_at_a_time(
    pool: asyncpg.Pool, events: list[tuple[str, list[Change]]], batch_size: int
) -> None:
    store, script = await _history(events)
    read_model = PostgresReadModel(pool)
    batched = Scripted(next(_versions), script)
    single = Scripted(next(_versions), script)

    in_batches = await _run(store, read_model, batched, batch_size)
    one_by_one = await _run(store, read_model, single, 1)

    assert in_batches == one_by_one


async def test_a_poison_event_holds_its_tenant_and_the_rest_of_the_batch_is_applied(
    pool: asyncpg.Pool,
) -> None:
    thing = {"tenant_id": "tb", "thing_id": UUID(int=1)}
    events: list[tuple[str, list[Change]]] = []
    for n in range(20):
        ours = {"tenant_id": "ta", "thing_id": UUID(int=n + 1)}
        events.append(("ta", [Increment("things", ours, {"count": n})]))
        if n in (5, 6):  # the second one overflows the bigint once added up
            events.append(("tb", [Increment("things", thing, {"total": HUGE})]))
        if n == 8:  # held behind the failed one, in order
            events.append(("tb", [Upsert("things", thing, {"label": "later"})]))
    store, script = await _history(events)
    read_model = PostgresReadModel(pool)

    rows, _, held = await _run(store, read_model, Scripted(next(_versions), script), 50)

    assert [r["count"] for r in rows if r["tenant_id"] == "ta"] == [*range(20)]
    [tb] = [r for r in rows if r["tenant_id"] == "tb"]
    assert (tb["total"], tb["label"]) == (HUGE, None)
    assert [(tenant, failed) for tenant, _, failed in held] == [("tb", True), ("tb", False)]
