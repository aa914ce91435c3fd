"""The relay against the real NATS JetStream at 127.0.0.1:4222 and PostgreSQL: a durable
consumer sees every integration event once, in order per partition, across a relay restart."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import nats
import pytest
from nats.js import JetStreamContext

from adapters.nats import JetStreamPublisher
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.relay_checkpoints import PostgresRelayCheckpoint
from commerce_core.eventstore import Position, RecordedEvent, Repository
from commerce_core.eventstore.records import START
from commerce_core.integration import (
    IntegrationEvent,
    decode_integration_event,
    integration_events_of,
)
from commerce_core.integration.ports import BrokerError
from commerce_core.integration.relay import Relay
from tests.conftest import PgSchema
from tests.unit.order_story import Clock, tell_story

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


class Crashing(JetStreamPublisher):
    """Dies (as a killed relay would) after ``survive`` acknowledged events."""

    def __init__(self, url: str, stream: str, prefix: str, survive: int) -> None:
        super().__init__(url, stream, prefix)
        self.left = survive

    async def publish(self, events: Sequence[IntegrationEvent]) -> None:
        for event in events:
            if self.left == 0:
                raise BrokerError("killed mid-way")
            self.left -= 1
            await super().publish([event])


@pytest.fixture
async def js() -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(NATS_URL)
    yield nc.jetstream()
    await nc.close()


@pytest.fixture
def stream_name() -> str:
    return f"TEST_{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture
async def store(pg_schema: PgSchema) -> AsyncIterator[PostgresEventStore]:
    pool = await pg_schema.pool(max_size=5)
    yield PostgresEventStore(pool, poll_interval=0.02)
    await pool.close()


async def consume(js: JetStreamContext, stream: str, subject: str) -> list[IntegrationEvent]:
    sub = await js.pull_subscribe(subject, durable="reader", stream=stream)
    seen: list[IntegrationEvent] = []
    while True:
        try:
            msgs = await sub.fetch(100, timeout=1)
        except TimeoutError:  # nothing more to read
            return seen
        for msg in msgs:
            seen.append(decode_integration_event(msg.data))
            await msg.ack()


async def last_stored(pool: asyncpg.Pool) -> Position:
    row = await pool.fetchrow(
        "SELECT tx_id, global_position FROM events ORDER BY tx_id DESC, global_position DESC"
        " LIMIT 1"
    )
    assert row is not None
    return Position(row[0], row[1])


async def all_visible(store: PostgresEventStore) -> list[RecordedEvent]:
    """Every stored event, once readers may see them all: a transaction open elsewhere on
    the server (another test) holds back what readers see for a moment."""
    last = await last_stored(store._pool)
    async with asyncio.timeout(20):
        while await store.head() < last:  # noqa: ASYNC110 - nothing signals visibility
            await asyncio.sleep(0.02)
    return await store.read_all(START, limit=10_000)


async def relay_all(relay: Relay, store: PostgresEventStore) -> None:
    last = await last_stored(store._pool)
    async with asyncio.timeout(20):
        while (await relay.status()).position < last:
            await relay.relay_batch()


async def test_a_consumer_sees_every_event_once_in_order_across_a_restart(
    pg_schema: PgSchema, store: PostgresEventStore, js: JetStreamContext, stream_name: str
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    mine, other = await tell_story(Repository(store), Clock(), "acme"), None
    other = await tell_story(Repository(store), Clock(), "globex")
    expected = [i for e in await all_visible(store) for i in integration_events_of(e)]
    pool: asyncpg.Pool = store._pool
    checkpoint = PostgresRelayCheckpoint(pool)

    dying = Crashing(NATS_URL, stream_name, prefix, survive=len(expected) // 2)
    first = Relay(store, dying, checkpoint, batch_size=1000)
    with pytest.raises(BrokerError):
        await first.relay_batch()  # a whole batch: half is acked, the checkpoint did not move
    await dying.close()
    assert await checkpoint.load("nats") == START

    publisher = JetStreamPublisher(NATS_URL, stream_name, prefix)
    try:
        await relay_all(Relay(store, publisher, checkpoint, batch_size=7), store)
        info = await js.stream_info(stream_name)
        assert info.state.messages == len(expected)  # the re-sent half was dropped as duplicates
        seen = await consume(js, stream_name, f"{prefix}.acme.>")
    finally:
        await publisher.close()
        await js.delete_stream(stream_name)

    assert sorted(str(e.id) for e in seen) == sorted(
        str(e.id) for e in expected if e.tenant == "acme"
    )
    assert {e.tenant for e in seen} == {"acme"}  # another tenant's subjects are separate
    for partition in {e.partition for e in seen}:
        got = [e.id for e in seen if e.partition == partition]
        assert got == [e.id for e in expected if e.partition == partition]
    assert mine.order_id in {e.partition for e in seen}
    assert other.order_id not in {e.partition for e in seen}
    status = await Relay(store, publisher, checkpoint).status()
    assert status.lag == 0
    assert status.last_error is None


async def test_an_unreachable_broker_is_a_broker_error_and_the_checkpoint_stays(
    store: PostgresEventStore, stream_name: str
) -> None:
    await tell_story(Repository(store), Clock(), "acme")
    await all_visible(store)
    checkpoint = PostgresRelayCheckpoint(store._pool)
    publisher = JetStreamPublisher("nats://127.0.0.1:1", stream_name, timeout=0.5)
    with pytest.raises(BrokerError):
        await Relay(store, publisher, checkpoint).relay_batch()
    assert await checkpoint.load("nats") == START
