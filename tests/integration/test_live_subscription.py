"""A live subscriber on PostgreSQL woken by an append in its process waits a moment (the
settle) before reading, so that the appends of that moment come in one read instead of a
query per append and subscriber (nine projections follow the log in every process)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from adapters.postgres.eventstore import PostgresEventStore
from commerce_core.eventstore import (
    START,
    AppendStream,
    EventMetadata,
    NewEvent,
    Position,
    RecordedEvent,
)
from tests.conftest import PgSchema

META = EventMetadata(tenant_id="t1", correlation_id="c", causation_id="c", actor="test")


class CountingStore(PostgresEventStore):
    calls: list[str]
    read_once: asyncio.Event

    async def read_all(
        self, after: Position, limit: int = 1000, tenant_id: str | None = None
    ) -> list[RecordedEvent]:
        found = await super().read_all(after, limit, tenant_id=tenant_id)
        self.calls.append(f"read {len(found)}")
        self.read_once.set()
        return found


async def test_appends_made_while_a_woken_subscriber_settles_come_in_its_next_read() -> None:
    schema = await PgSchema.create()
    pool = await schema.pool()
    stream = uuid.uuid4()
    try:

        async def settle(seconds: float) -> None:  # five more appends meanwhile
            store.calls.append(f"settle {seconds}")
            for version in range(1, 6):
                event = NewEvent(uuid.uuid4(), "Thing.Happened", b"{}")
                await store.append([AppendStream(stream, version, [event])], META)

        # a poll interval no test waits for: only a wake from an append counts
        store = CountingStore(pool, poll_interval=600, settle=0.02, sleep=settle)
        store.calls, store.read_once = [], asyncio.Event()
        seen: list[RecordedEvent] = []

        async def follow() -> None:
            async for record in store.subscribe(START):
                seen.append(record)
                if len(seen) == 6:
                    return

        follower = asyncio.create_task(follow())
        await store.read_once.wait()  # its first read (nothing yet), then it waits
        await store.append([AppendStream(stream, 0, [NewEvent(uuid.uuid4(), "T.H", b"{}")])], META)
        await asyncio.wait_for(follower, timeout=30)
    finally:
        await pool.close()
        await schema.drop()

    assert store.calls == ["read 0", "settle 0.02", "read 6"]
    assert [record.version for record in seen] == [1, 2, 3, 4, 5, 6]


async def _no_settle(seconds: float) -> None:
    pass


async def test_subscribers_woken_by_one_append_share_one_read() -> None:
    schema = await PgSchema.create()
    pool = await schema.pool()
    stream = uuid.uuid4()
    try:
        store = CountingStore(pool, poll_interval=600, settle=0.02, sleep=_no_settle)
        store.calls, store.read_once = [], asyncio.Event()
        seen: list[list[int]] = [[], [], []]

        async def follow(mine: list[int]) -> None:
            async for record in store.subscribe(START):
                mine.append(record.version)
                if len(mine) == 2:
                    return

        followers = [asyncio.create_task(follow(mine)) for mine in seen]
        await store.read_once.wait()
        for version in (0, 1):
            event = NewEvent(uuid.uuid4(), "Thing.Happened", b"{}")
            await store.append([AppendStream(stream, version, [event])], META)
        await asyncio.wait_for(asyncio.gather(*followers), timeout=30)
    finally:
        await pool.close()
        await schema.drop()

    assert seen == [[1, 2], [1, 2], [1, 2]]
    # one read for the three at the start, one after each append: not one per subscriber
    assert store.calls in (["read 0", "read 1", "read 1"], ["read 0", "read 2"])


async def test_a_subscriber_that_saw_a_later_append_does_not_share_an_older_read() -> None:
    schema = await PgSchema.create()
    pool = await schema.pool()
    stream = uuid.uuid4()
    gate = asyncio.Event()

    class HeldStore(CountingStore):
        async def read_all(
            self, after: Position, limit: int = 1000, tenant_id: str | None = None
        ) -> list[RecordedEvent]:
            found = await super().read_all(after, limit, tenant_id=tenant_id)
            if len(self.calls) == 1:
                await gate.wait()  # the first read has its answer, and holds it back
            return found

    try:
        store = HeldStore(pool, poll_interval=600, settle=0.02, sleep=_no_settle)
        store.calls, store.read_once = [], asyncio.Event()

        async def first(subscription: AsyncIterator[RecordedEvent]) -> RecordedEvent:
            return await anext(subscription)

        early = asyncio.create_task(first(store.subscribe(START)))
        await store.read_once.wait()  # its read found nothing, and is held
        event = NewEvent(uuid.uuid4(), "Thing.Happened", b"{}")
        await store.append([AppendStream(stream, 0, [event])], META)
        late = await asyncio.wait_for(first(store.subscribe(START)), timeout=30)
        gate.set()
        await asyncio.wait_for(early, timeout=30)
    finally:
        await pool.close()
        await schema.drop()

    assert late.event_id == event.event_id
    assert store.calls[:2] == ["read 0", "read 1"]


async def test_subscribers_following_another_process_look_together_and_share_each_read() -> None:
    """Appends of another process reach a process's subscribers by polling: they poll at
    the same moments, however long each spent on its last events, so one read serves all."""
    schema = await PgSchema.create()
    pool, other_pool = await schema.pool(), await schema.pool()
    try:
        store = CountingStore(pool, poll_interval=0.05)
        store.calls, store.read_once = [], asyncio.Event()
        other = PostgresEventStore(other_pool)  # another process: its appends wake nobody here
        seen = [0, 0, 0]
        changed = asyncio.Event()

        async def follow(index: int) -> None:
            async for _ in store.subscribe(START):
                for _ in range(index * 4):  # work on each event, as a projection's commit
                    await pool.execute("SELECT 1")
                seen[index] += 1
                changed.set()

        followers = [asyncio.create_task(follow(index)) for index in range(3)]
        for count in range(1, 16):
            event = NewEvent(uuid.uuid4(), "Thing.Happened", b"{}")
            await other.append([AppendStream(uuid.uuid4(), 0, [event])], META)
            async with asyncio.timeout(30):
                while seen != [count] * 3:
                    changed.clear()
                    await changed.wait()
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
    finally:
        await pool.close()
        await other_pool.close()
        await schema.drop()

    # each event came in one read for the three, not in one read per subscriber; a poll
    # that falls while the slowest is still at work leaves it to read alone once
    found = [call for call in store.calls if call != "read 0"]
    assert set(found) == {"read 1"}
    assert len(found) <= 20, f"{len(found)} reads for 15 events and three subscribers"
