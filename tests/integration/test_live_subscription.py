"""A live subscriber on PostgreSQL woken by an append in its process waits a moment (the
settle) before reading, so that the appends of that moment come in one read instead of a
query per append and subscriber (nine projections follow the log in every process)."""

from __future__ import annotations

import asyncio
import uuid

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
