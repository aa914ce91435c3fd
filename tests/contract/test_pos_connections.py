"""The POS connection store's contract, memory and PostgreSQL alike, for what the order
push and oversells add (ADR 0040): the push checkpoint and the first connection time
survive storing the connection again and the pull's bookkeeping; oversells are counted
while open, listed, and resolved once, per tenant."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.pos_connections import MemoryPosConnections
from adapters.postgres.pos_connections import PostgresPosConnections
from commerce_core.channels.connections import (
    ConnectPos,
    Oversell,
    PosConnections,
    PosDetails,
    PosName,
    PosSecrets,
    Resolution,
    connect_pos,
)
from commerce_core.eventstore.records import Position
from tests.conftest import PgSchema

MASTER_KEY = bytes(range(32))
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FAKE = ConnectPos(
    pos=PosName.FAKE, details=PosDetails(location_map={"L1": "main"}), secrets=PosSecrets()
)


@pytest.fixture(params=["memory", "postgres"])
async def connections(request: pytest.FixtureRequest) -> AsyncIterator[PosConnections]:
    if request.param == "memory":
        yield MemoryPosConnections(MASTER_KEY)
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)
    try:
        yield PostgresPosConnections(pool, MASTER_KEY)
    finally:
        await pool.close()
        await schema.drop()


def oversell(external_id: str, minutes: int = 0) -> Oversell:
    return Oversell(
        external_id=external_id,
        location_id="L1",
        detail="not enough TEE",
        recorded_at=AT + timedelta(minutes=minutes),
    )


async def test_the_push_checkpoint_and_first_connection_time_are_kept(
    connections: PosConnections,
) -> None:
    tenant, clock = uuid.uuid4(), FixedClock(AT)
    await connect_pos(connections, clock, tenant, FAKE)
    await connections.pushed_through(tenant, "fake", Position(41, 7))
    await connections.applied(tenant, "fake", "cursor-1", AT)
    clock.advance(timedelta(hours=1))
    await connect_pos(connections, clock, tenant, FAKE)  # stored again

    found = await connections.get(tenant, "fake")

    assert found is not None
    assert found.sync.push_position == Position(41, 7)
    assert found.sync.push_since == AT
    assert found.sync.cursor == "cursor-1"


async def test_oversells_are_counted_while_open_and_resolved_once(
    connections: PosConnections,
) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    clock = FixedClock(AT)
    await connect_pos(connections, clock, tenant, FAKE)
    await connect_pos(connections, clock, other, FAKE)
    assert await connections.record_oversell(tenant, "fake", oversell("SQ-1"))
    assert await connections.record_oversell(tenant, "fake", oversell("SQ-2", minutes=1))
    assert not await connections.record_oversell(tenant, "fake", oversell("SQ-1", minutes=5))

    first = Resolution(note="written off", by="key:1", at=AT + timedelta(hours=1))
    second = Resolution(note="changed my mind", by="key:2", at=AT + timedelta(hours=2))
    resolved = await connections.resolve_oversell(tenant, "fake", "SQ-1", first)
    again = await connections.resolve_oversell(tenant, "fake", "SQ-1", second)

    assert resolved is not None
    assert resolved.resolution == first
    assert again is not None
    assert again.resolution == first
    assert await connections.resolve_oversell(tenant, "fake", "SQ-9", first) is None
    assert await connections.resolve_oversell(other, "fake", "SQ-2", first) is None
    found = await connections.get(tenant, "fake")
    assert found is not None
    assert found.sync.oversells == 1
    assert [o.external_id for o in await connections.oversells_of(tenant, "fake", True)] == ["SQ-2"]
    listed = await connections.oversells_of(tenant, "fake", False)
    assert [o.external_id for o in listed] == ["SQ-2", "SQ-1"]  # newest first
    assert await connections.oversells_of(other, "fake", False) == []
