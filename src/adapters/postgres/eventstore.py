"""The event store on PostgreSQL with asyncpg.

An append is one INSERT statement, atomic on its own: no explicit transaction,
no table or advisory lock, no NOTIFY, so appends to different streams commit
concurrently and share fsyncs (group commit). Readers follow the global order
by ``(tx_id, global_position)`` and only see transactions below the oldest one
still running, so an event that commits late is never skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg

from adapters.postgres.connection import Connection
from commerce_core.eventstore import (
    AppendStream,
    ConcurrencyError,
    EventMetadata,
    Position,
    RecordedEvent,
    SnapshotRecord,
    StreamLoad,
)

_APPEND = """
WITH gaps AS (
    SELECT 1 FROM unnest($6::uuid[], $7::int[]) AS s(stream_id, expected)
    WHERE s.expected > 0 AND NOT EXISTS (
        SELECT 1 FROM events e WHERE e.stream_id = s.stream_id AND e.version = s.expected)
)
INSERT INTO events (stream_id, version, event_id, type, data,
                    tenant_id, correlation_id, causation_id, actor, recorded_at)
SELECT i.stream_id, i.version, i.event_id, i.type, i.data, $8, $9, $10, $11, $12
FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[])
     WITH ORDINALITY AS i(stream_id, version, event_id, type, data, n)
WHERE NOT EXISTS (SELECT 1 FROM gaps)
ORDER BY i.n
RETURNING tx_id, global_position
"""

# The same INSERT for appends that only create streams: with every expected version 0
# there is no gap to look for, and the unique (stream_id, version) still refuses a
# stream that someone else created first.
_APPEND_NEW_STREAMS = """
INSERT INTO events (stream_id, version, event_id, type, data,
                    tenant_id, correlation_id, causation_id, actor, recorded_at)
SELECT i.stream_id, i.version, i.event_id, i.type, i.data, $6, $7, $8, $9, $10
FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[])
     WITH ORDINALITY AS i(stream_id, version, event_id, type, data, n)
ORDER BY i.n
RETURNING tx_id, global_position
"""

# Several appends in one statement (``append_many``): the same INSERT with each event's
# metadata in arrays of its own.
_APPEND_MANY = """
WITH gaps AS (
    SELECT 1 FROM unnest($10::uuid[], $11::int[]) AS s(stream_id, expected)
    WHERE s.expected > 0 AND NOT EXISTS (
        SELECT 1 FROM events e WHERE e.stream_id = s.stream_id AND e.version = s.expected)
)
INSERT INTO events (stream_id, version, event_id, type, data,
                    tenant_id, correlation_id, causation_id, actor, recorded_at)
SELECT i.stream_id, i.version, i.event_id, i.type, i.data,
       i.tenant_id, i.correlation_id, i.causation_id, i.actor, $12
FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::text[], $5::jsonb[],
            $6::text[], $7::text[], $8::text[], $9::text[])
     WITH ORDINALITY AS i(stream_id, version, event_id, type, data,
                          tenant_id, correlation_id, causation_id, actor, n)
WHERE NOT EXISTS (SELECT 1 FROM gaps)
ORDER BY i.n
RETURNING tx_id, global_position
"""

_COLUMNS = (
    "tx_id, global_position, stream_id, version, event_id, type, data,"
    " tenant_id, correlation_id, causation_id, actor, recorded_at"
)
_HORIZON = "tx_id < pg_snapshot_xmin(pg_current_snapshot())"
_READ_ALL = f"""
SELECT {_COLUMNS} FROM events
WHERE (tx_id, global_position) > ($1::xid8, $2::bigint) AND {_HORIZON}
ORDER BY tx_id, global_position LIMIT $3
"""
_READ_ALL_TENANT = f"""
SELECT {_COLUMNS} FROM events
WHERE (tx_id, global_position) > ($1::xid8, $2::bigint) AND {_HORIZON} AND tenant_id = $4
ORDER BY tx_id, global_position LIMIT $3
"""
_READ_STREAM = f"""
SELECT {_COLUMNS} FROM events
WHERE stream_id = $1 AND version >= $2 AND version <= $3 ORDER BY version
"""

# The newest snapshot (flagged by the last column) and the events after it, in one round trip.
_LOAD_STREAM = f"""
WITH snap AS (
    SELECT version, type, data FROM snapshots
    WHERE stream_id = $1 AND version <= $2 ORDER BY version DESC LIMIT 1
)
SELECT NULL::xid8, NULL::bigint, $1::uuid, version, NULL::uuid, type, data,
       NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz, true
FROM snap
UNION ALL
SELECT {_COLUMNS}, false FROM events
WHERE stream_id = $1 AND version > coalesce((SELECT version FROM snap), 0) AND version <= $2
"""

_LOAD_STREAMS = f"""
WITH snap AS (
    SELECT DISTINCT ON (stream_id) stream_id, version, type, data FROM snapshots
    WHERE stream_id = ANY($1::uuid[]) ORDER BY stream_id, version DESC
)
SELECT NULL::xid8, NULL::bigint, stream_id, version, NULL::uuid, type, data,
       NULL::text, NULL::text, NULL::text, NULL::text, NULL::timestamptz, true
FROM snap
UNION ALL
SELECT {_COLUMNS}, false FROM events
WHERE events.stream_id = ANY($1::uuid[]) AND events.version > coalesce(
    (SELECT snap.version FROM snap WHERE snap.stream_id = events.stream_id), 0
)
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        position=Position(row[0], row[1]),
        stream_id=row[2],
        version=row[3],
        event_id=row[4],
        type=row[5],
        data=row[6],
        metadata=EventMetadata(
            tenant_id=row[7], correlation_id=row[8], causation_id=row[9], actor=row[10]
        ),
        recorded_at=row[11],
    )


class _LiveRead(NamedTuple):
    after: Position
    limit: int
    woken: asyncio.Event  # the appends looked for when it started (compared by identity)


def _appended_events(
    positions: Sequence[asyncpg.Record],
    rows: Sequence[tuple[Any, ...]],
    metadata: Sequence[EventMetadata],
    recorded_at: datetime,
) -> list[RecordedEvent]:
    """The stored events of an append: each row's (stream, version, id, type, data) with
    the position the database gave it and its metadata."""
    return [
        RecordedEvent(
            position=Position(*position),
            stream_id=row[0],
            version=row[1],
            event_id=row[2],
            type=row[3],
            data=row[4],
            metadata=meta,
            recorded_at=recorded_at,
        )
        for position, row, meta in zip(positions, rows, metadata, strict=True)
    ]


class PostgresEventStore:
    """The event store port on an asyncpg pool (see ``connection.create_pool``).

    ``poll_interval`` bounds how long a live subscriber waits to see events
    appended by other processes (one timer wakes all the subscribers of a process, so
    they read together); appends in this process wake it, and it reads ``settle``
    seconds later: under load every append wakes every subscriber (one per
    projection), and reading each time costs a query per append and subscriber,
    where a short wait lets the appends of those moments come in one read.
    ``before_commit`` is a test seam: when set, each append runs in an explicit
    transaction and awaits it between the INSERT and the COMMIT (``append`` only, not
    ``append_many``).
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        clock: Callable[[], datetime] = _utc_now,
        poll_interval: float = 0.2,
        settle: float = 0.02,
        before_commit: Callable[[], Awaitable[None]] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._poll_interval = poll_interval
        self._settle = settle
        self._sleep = sleep
        self._before_commit = before_commit
        self._appended = asyncio.Event()
        self._polled: asyncio.Event | None = None  # the last one a poll set, not an append
        self._poll: asyncio.TimerHandle | None = None
        self._first_poll: float | None = None
        # subscribers' reads in flight, for others woken by the same append to share
        self._live_reads: dict[_LiveRead, asyncio.Future[list[RecordedEvent]]] = {}

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        rows = [
            (s.stream_id, s.expected_version + n, e.event_id, e.type, e.data)
            for s in streams
            for n, e in enumerate(s.events, start=1)
        ]
        if not rows:
            return []
        recorded_at = self._clock()
        args: list[Any] = [list(column) for column in zip(*rows, strict=True)]
        args += [
            [s.stream_id for s in streams],
            [s.expected_version for s in streams],
            metadata.tenant_id,
            metadata.correlation_id,
            metadata.causation_id,
            metadata.actor,
            recorded_at,
        ]
        async with self._pool.acquire() as conn:
            try:
                positions = await self._insert(conn, args)
            except asyncpg.UniqueViolationError:
                positions = []
            if len(positions) != len(rows):
                if await self._all_stored(conn, args[2]):
                    return []
                raise await self._conflict(conn, streams)
        self._wake_subscribers()
        return _appended_events(positions, rows, [metadata] * len(rows), recorded_at)

    async def append_many(
        self, appends: Sequence[tuple[Sequence[AppendStream], EventMetadata]]
    ) -> list[list[RecordedEvent]]:
        rows = [
            (s.stream_id, s.expected_version + n, e.event_id, e.type, e.data, metadata)
            for streams, metadata in appends
            for s in streams
            for n, e in enumerate(s.events, start=1)
        ]
        if not rows:
            return [[] for _ in appends]
        streams = [s for group, _ in appends for s in group]
        recorded_at = self._clock()
        args: list[Any] = [list(column) for column in zip(*(row[:5] for row in rows), strict=True)]
        args += [
            [row[5].tenant_id for row in rows],
            [row[5].correlation_id for row in rows],
            [row[5].causation_id for row in rows],
            [row[5].actor for row in rows],
            [s.stream_id for s in streams],
            [s.expected_version for s in streams],
            recorded_at,
        ]
        try:
            positions = await self._pool.fetch(_APPEND_MANY, *args)
        except asyncpg.UniqueViolationError:
            positions = []
        if len(positions) != len(rows):  # which one, and whether a retry: one by one
            raise ConcurrencyError(streams[0].stream_id, streams[0].expected_version)
        self._wake_subscribers()
        recorded = iter(_appended_events(positions, rows, [row[5] for row in rows], recorded_at))
        sizes = [sum(len(s.events) for s in group) for group, _ in appends]
        return [[next(recorded) for _ in range(size)] for size in sizes]

    def _wake_subscribers(self) -> None:
        self._appended.set()
        self._appended = asyncio.Event()

    def _poll_later(self) -> None:
        """Wakes every waiting subscriber at the next poll, if no append does before.

        One timer for all: the subscribers of a process following other processes'
        appends wake in the same callback, whenever each began to wait, and so share
        one read (``_live_read``). Polls fall every ``poll_interval`` from the first.
        """
        if self._poll is not None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._first_poll is None:
            self._first_poll = now
        interval = self._poll_interval
        self._poll = loop.call_at(
            now + interval - (now - self._first_poll) % interval, self._polled_now
        )

    def _polled_now(self) -> None:
        self._poll = None
        self._polled = self._appended
        self._wake_subscribers()

    async def _insert(self, conn: Connection, args: list[Any]) -> list[asyncpg.Record]:
        if any(args[6]):
            sql, params = _APPEND, args
        else:  # only new streams: skip the gap check and its two arrays
            sql, params = _APPEND_NEW_STREAMS, args[:5] + args[7:]
        if self._before_commit is None:
            return await conn.fetch(sql, *params)
        async with conn.transaction():
            positions = await conn.fetch(sql, *params)
            await self._before_commit()
            return positions

    @staticmethod
    async def _all_stored(conn: Connection, event_ids: list[UUID]) -> bool:
        stored = await conn.fetchval(
            "SELECT count(*) FROM events WHERE event_id = ANY($1::uuid[])", event_ids
        )
        return bool(stored == len(event_ids))

    @staticmethod
    async def _conflict(conn: Connection, streams: Sequence[AppendStream]) -> ConcurrencyError:
        rows = await conn.fetch(
            "SELECT stream_id, max(version) FROM events WHERE stream_id = ANY($1::uuid[])"
            " GROUP BY stream_id",
            [s.stream_id for s in streams],
        )
        versions = {row[0]: row[1] for row in rows}
        stream = next(
            (s for s in streams if versions.get(s.stream_id, 0) != s.expected_version),
            streams[0],
        )
        return ConcurrencyError(stream.stream_id, stream.expected_version)

    async def read_stream(
        self, stream_id: UUID, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        upper = to_version if to_version is not None else 2**31 - 1
        rows = await self._pool.fetch(_READ_STREAM, stream_id, from_version, upper)
        return [_recorded(row) for row in rows]

    async def load_stream(self, stream_id: UUID, to_version: int | None = None) -> StreamLoad:
        upper = to_version if to_version is not None else 2**31 - 1
        snapshot: SnapshotRecord | None = None
        events: list[RecordedEvent] = []
        for row in await self._pool.fetch(_LOAD_STREAM, stream_id, upper):
            if row[12]:
                snapshot = SnapshotRecord(row[2], row[3], row[5], row[6])
            else:
                events.append(_recorded(row))
        events.sort(key=lambda event: event.version)  # UNION ALL promises no order
        return StreamLoad(snapshot, events)

    async def load_streams(self, stream_ids: Sequence[UUID]) -> dict[UUID, StreamLoad]:
        snapshots: dict[UUID, SnapshotRecord] = {}
        events: dict[UUID, list[RecordedEvent]] = {}
        for row in await self._pool.fetch(_LOAD_STREAMS, list(dict.fromkeys(stream_ids))):
            if row[12]:
                snapshots[row[2]] = SnapshotRecord(row[2], row[3], row[5], row[6])
            else:
                events.setdefault(row[2], []).append(_recorded(row))
        loads = {}
        for stream_id in stream_ids:
            if stream_id in snapshots or stream_id in events:
                stream = sorted(events.get(stream_id, []), key=lambda event: event.version)
                loads[stream_id] = StreamLoad(snapshots.get(stream_id), stream)
        return loads

    async def stream_version(self, stream_id: UUID) -> int:
        version = await self._pool.fetchval(
            "SELECT max(version) FROM events WHERE stream_id = $1", stream_id
        )
        return int(version or 0)

    async def read_all(
        self, after: Position, limit: int = 1000, tenant_id: str | None = None
    ) -> list[RecordedEvent]:
        if tenant_id is None:
            rows = await self._pool.fetch(_READ_ALL, after[0], after[1], limit)
        else:
            rows = await self._pool.fetch(_READ_ALL_TENANT, after[0], after[1], limit, tenant_id)
        return [_recorded(row) for row in rows]

    async def head(self) -> Position:
        row = await self._pool.fetchrow(
            f"SELECT tx_id, global_position FROM events WHERE {_HORIZON}"
            " ORDER BY tx_id DESC, global_position DESC LIMIT 1"
        )
        return Position(row[0], row[1]) if row else Position(0, 0)

    async def horizon_lag(self) -> int:
        """Events inserted that readers cannot see yet: an open transaction holds them back."""
        lag = await self._pool.fetchval(
            "SELECT count(*) FROM events WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot())"
        )
        return int(lag or 0)

    async def subscribe(
        self, after: Position, batch_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        while True:
            woken = self._appended
            batch = await self._live_read(_LiveRead(after, batch_size, woken))
            for record in batch:
                yield record
                after = record.position
            if len(batch) < batch_size:
                self._poll_later()
                await woken.wait()
                if woken is not self._polled and self._settle > 0:  # woken by an append
                    await self._sleep(self._settle)

    def _live_read(self, read: _LiveRead) -> Awaitable[list[RecordedEvent]]:
        """``read_all`` for a subscriber, shared with the others that ask for the same.

        Every live projection of a process is woken by the same append and, at the head
        together, asks for the same events: one query answers them all, its rows decoded
        once. A read is shared only with subscribers that looked for appends before it
        started (the same ``woken``): one that saw a later append reads after it.
        """
        reading = self._live_reads.get(read)
        if reading is None:
            reading = asyncio.ensure_future(self.read_all(read.after, read.limit))
            self._live_reads[read] = reading
            reading.add_done_callback(lambda done: self._live_read_done(read, done))
        # a subscriber stopped while it waits leaves the read to the others
        return asyncio.shield(reading)

    def _live_read_done(self, read: _LiveRead, done: asyncio.Future[list[RecordedEvent]]) -> None:
        self._live_reads.pop(read, None)
        if not done.cancelled():
            done.exception()  # raised to those awaiting it; nobody awaiting must not warn

    async def save_snapshot(self, snapshot: SnapshotRecord) -> None:
        await self._pool.execute(
            "INSERT INTO snapshots (stream_id, version, type, data) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            snapshot.stream_id,
            snapshot.version,
            snapshot.type,
            snapshot.data,
        )

    async def load_snapshot(
        self, stream_id: UUID, max_version: int | None = None
    ) -> SnapshotRecord | None:
        row = await self._pool.fetchrow(
            "SELECT stream_id, version, type, data FROM snapshots"
            " WHERE stream_id = $1 AND version <= $2 ORDER BY version DESC LIMIT 1",
            stream_id,
            max_version if max_version is not None else 2**31 - 1,
        )
        return SnapshotRecord(row[0], row[1], row[2], row[3]) if row else None
