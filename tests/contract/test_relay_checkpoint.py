"""Every relay checkpoint adapter keeps the same promises."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.memory.relay import MemoryRelayCheckpoint
from adapters.postgres.relay_checkpoints import PostgresRelayCheckpoint
from commerce_core.eventstore import Position
from commerce_core.eventstore.records import START
from commerce_core.integration.ports import RelayCheckpoint
from tests.conftest import PgSchema


@pytest.fixture(params=["memory", "postgres"])
async def checkpoint(request: pytest.FixtureRequest) -> AsyncIterator[RelayCheckpoint]:
    if request.param == "memory":
        yield MemoryRelayCheckpoint()
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=2)
    yield PostgresRelayCheckpoint(pool)
    await pool.close()
    await schema.drop()


async def test_a_new_relay_starts_at_the_beginning_with_no_error(
    checkpoint: RelayCheckpoint,
) -> None:
    assert await checkpoint.load("nats") == START
    assert await checkpoint.last_error("nats") is None


async def test_a_saved_position_is_loaded_back_per_relay(checkpoint: RelayCheckpoint) -> None:
    await checkpoint.save("nats", Position(2**40, 17))  # tx ids outgrow 32 bits
    await checkpoint.save("nats", Position(2**40 + 1, 18))
    assert await checkpoint.load("nats") == Position(2**40 + 1, 18)
    assert await checkpoint.load("other") == START


async def test_an_error_is_kept_until_the_next_save(checkpoint: RelayCheckpoint) -> None:
    await checkpoint.save("nats", Position(5, 5))
    await checkpoint.record_error("nats", "BrokerError: no route")
    assert await checkpoint.last_error("nats") == "BrokerError: no route"
    assert await checkpoint.load("nats") == Position(5, 5)  # an error does not move it
    await checkpoint.save("nats", Position(6, 6))
    assert await checkpoint.last_error("nats") is None


async def test_an_error_before_any_save_leaves_the_start(checkpoint: RelayCheckpoint) -> None:
    await checkpoint.record_error("nats", "down")
    assert await checkpoint.load("nats") == START
    assert await checkpoint.last_error("nats") == "down"
