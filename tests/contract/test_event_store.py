"""The event store contract: each test runs against the memory and PostgreSQL adapters."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections import defaultdict

import pytest

from commerce_core.eventstore import (
    START,
    AppendStream,
    ConcurrencyError,
    EventMetadata,
    EventStore,
    NewEvent,
    RecordedEvent,
)
from tests.contract.conftest import StoreFactory

META = EventMetadata(tenant_id="t1", correlation_id="corr-1", causation_id="cmd-1", actor="alice")


async def settled(store: EventStore, appended: list[RecordedEvent]) -> None:
    """Waits until readers can see ``appended``: on PostgreSQL, a transaction still open
    anywhere on the server (another test run, say) holds the read horizon back a moment."""
    for _ in range(1000):
        if await store.head() >= appended[-1].position:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("appended events did not become visible within 10 s")


def new_events(n: int, kind: str = "Thing.Happened") -> list[NewEvent]:
    return [NewEvent(uuid.uuid4(), kind, b'{"n":%d}' % i) for i in range(n)]


async def test_appended_events_read_back_in_version_order_with_metadata(store: EventStore) -> None:
    stream = uuid.uuid4()
    events = new_events(3)
    recorded = await store.append([AppendStream(stream, 0, events)], META)

    read = await store.read_stream(stream)

    assert [r.version for r in read] == [1, 2, 3]
    assert [r.event_id for r in read] == [e.event_id for e in events]
    assert [json.loads(r.data) for r in read] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [r.position for r in read] == [r.position for r in recorded]
    assert read[0].metadata == META
    assert read[0].recorded_at.tzinfo is not None
    assert await store.stream_version(stream) == 3


async def test_stream_reads_take_a_version_range(store: EventStore) -> None:
    stream = uuid.uuid4()
    await store.append([AppendStream(stream, 0, new_events(5))], META)

    assert [r.version for r in await store.read_stream(stream, 2, 4)] == [2, 3, 4]
    assert [r.version for r in await store.read_stream(stream, from_version=4)] == [4, 5]
    assert await store.read_stream(uuid.uuid4()) == []


async def test_wrong_expected_version_raises_and_appends_nothing(store: EventStore) -> None:
    stream = uuid.uuid4()
    await store.append([AppendStream(stream, 0, new_events(2))], META)

    for stale in (0, 1, 3):
        with pytest.raises(ConcurrencyError) as raised:
            await store.append([AppendStream(stream, stale, new_events(1))], META)
        assert raised.value.stream_id == stream

    assert await store.stream_version(stream) == 2


async def test_multi_stream_append_is_all_or_nothing(store: EventStore) -> None:
    ready, busy, fresh = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await store.append([AppendStream(ready, 0, new_events(1))], META)
    await store.append([AppendStream(busy, 0, new_events(1))], META)

    with pytest.raises(ConcurrencyError) as raised:
        await store.append(
            [
                AppendStream(ready, 1, new_events(2)),
                AppendStream(fresh, 0, new_events(1)),
                AppendStream(busy, 0, new_events(1)),  # stale: busy is at version 1
            ],
            META,
        )
    assert raised.value.stream_id == busy

    assert await store.stream_version(ready) == 1
    assert await store.stream_version(fresh) == 0
    await settled(store, [*await store.read_stream(busy)])
    assert len(await store.read_all(START)) == 2

    await store.append(
        [AppendStream(ready, 1, new_events(2)), AppendStream(fresh, 0, new_events(1))], META
    )
    assert await store.stream_version(ready) == 3
    assert await store.stream_version(fresh) == 1


async def test_several_appends_with_their_own_metadata_are_stored_together(
    store: EventStore,
) -> None:
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await store.append([AppendStream(second, 0, new_events(1))], META)
    other = EventMetadata(tenant_id="t2", correlation_id="corr-2", causation_id="cmd-2")

    recorded = await store.append_many(
        [
            ([AppendStream(first, 0, new_events(2))], META),
            (
                [AppendStream(second, 1, new_events(1)), AppendStream(third, 0, new_events(1))],
                other,
            ),
        ]
    )

    assert [[(r.stream_id, r.version) for r in group] for group in recorded] == [
        [(first, 1), (first, 2)],
        [(second, 2), (third, 1)],
    ]
    assert [r.metadata for r in await store.read_stream(first)] == [META, META]
    assert [r.metadata for r in await store.read_stream(third)] == [other]
    assert (await store.read_stream(second))[1].metadata == other
    assert await store.append_many([]) == []


async def test_several_appends_are_stored_all_or_none(store: EventStore) -> None:
    ready, busy, retried = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await store.append([AppendStream(busy, 0, new_events(1))], META)
    stored = new_events(1)
    await store.append([AppendStream(retried, 0, stored)], META)

    for refused in (
        ([AppendStream(busy, 0, new_events(1))], META),  # stale: busy is at version 1
        ([AppendStream(retried, 0, stored)], META),  # stored already: a retry, not new
    ):
        with pytest.raises(ConcurrencyError):
            await store.append_many([([AppendStream(ready, 0, new_events(1))], META), refused])

    assert await store.stream_version(ready) == 0
    assert (await store.stream_version(busy), await store.stream_version(retried)) == (1, 1)


async def test_appending_stored_event_ids_again_is_a_no_op(store: EventStore) -> None:
    stream, other = uuid.uuid4(), uuid.uuid4()
    events = new_events(2)
    first = await store.append([AppendStream(stream, 0, events)], META)

    again = await store.append([AppendStream(stream, 0, events)], META)

    assert len(first) == 2
    assert again == []
    assert await store.stream_version(stream) == 2
    with pytest.raises(ConcurrencyError):
        # a stored id beside a new one is not a retry but a conflict
        await store.append([AppendStream(other, 0, [events[0], *new_events(1)])], META)
    assert await store.stream_version(other) == 0


async def test_read_all_follows_the_global_order_from_a_position(store: EventStore) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    await store.append([AppendStream(a, 0, new_events(2))], META)
    await store.append([AppendStream(b, 0, new_events(2))], EventMetadata(tenant_id="t2"))
    last = await store.append([AppendStream(a, 2, new_events(1))], META)
    await settled(store, last)

    everything = await store.read_all(START)
    assert [(r.stream_id, r.version) for r in everything] == [
        (a, 1),
        (a, 2),
        (b, 1),
        (b, 2),
        (a, 3),
    ]
    assert sorted(r.position for r in everything) == [r.position for r in everything]

    after_second = await store.read_all(everything[1].position, limit=2)
    assert [(r.stream_id, r.version) for r in after_second] == [(b, 1), (b, 2)]

    only_t2 = await store.read_all(START, tenant_id="t2")
    assert [(r.stream_id, r.version) for r in only_t2] == [(b, 1), (b, 2)]
    assert await store.head() == everything[-1].position


async def test_subscription_catches_up_then_follows_live_appends(store: EventStore) -> None:
    stream = uuid.uuid4()
    await store.append([AppendStream(stream, 0, new_events(2))], META)
    seen: list[RecordedEvent] = []

    async def follow() -> None:
        async for record in store.subscribe(START):
            seen.append(record)
            if len(seen) == 5:
                return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0)
    await store.append([AppendStream(stream, 2, new_events(3))], META)
    await asyncio.wait_for(follower, timeout=5)

    assert [r.version for r in seen] == [1, 2, 3, 4, 5]


async def test_a_reader_among_many_writers_sees_every_event_once_in_stream_order(
    make_store: StoreFactory,
) -> None:
    writers, appends_each, streams_each = 16, 500, 25
    rng = random.Random(7)

    async def random_commit_delay() -> None:
        if rng.random() < 0.2:
            await asyncio.sleep(rng.random() * 0.004)

    writing = await make_store(before_commit=random_commit_delay, pool_size=writers + 1)
    reading = await make_store(pool_size=2)
    total = writers * appends_each

    async def write(writer: int) -> None:
        streams = [uuid.uuid4() for _ in range(streams_each)]
        versions = dict.fromkeys(streams, 0)
        for i in range(appends_each):
            stream = streams[i % streams_each]
            await writing.append(
                [AppendStream(stream, versions[stream], new_events(1))],
                EventMetadata(tenant_id=f"w{writer}"),
            )
            versions[stream] += 1

    seen: list[RecordedEvent] = []

    async def read() -> None:
        async for record in reading.subscribe(START, batch_size=200):
            seen.append(record)
            if len(seen) == total:
                return

    reader = asyncio.create_task(read())
    await asyncio.gather(*(write(w) for w in range(writers)))
    await asyncio.wait_for(reader, timeout=60)

    assert len({r.event_id for r in seen}) == total
    by_stream: dict[uuid.UUID, list[int]] = defaultdict(list)
    for record in seen:
        by_stream[record.stream_id].append(record.version)
    assert all(v == list(range(1, len(v) + 1)) for v in by_stream.values())
    assert [r.position for r in seen] == sorted(r.position for r in seen)
