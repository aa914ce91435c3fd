"""Storing webhooks that arrive together with one multi-row INSERT.

Each request's ``add`` queues its row and waits for its answer. Up to
``max_flushes`` inserts run at once; while they do, new rows queue up and the
next insert takes them all (up to ``max_batch``). Alone, a row is inserted at
once; under load, one statement and one commit store many. Inserts run in
tasks of their own, so a request that goes away (and is cancelled) never
leaves the others of its batch waiting. If a batch fails, its rows are tried
one by one, so that one bad row fails alone.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

_INSERT = """
INSERT INTO webhook_events
    (id, gateway, event_id, type, payload, tenant_id, status, received_at, next_attempt_at,
     ordering_key)
SELECT id, gateway, event_id, type, payload, tenant_id, 'received', at, at, ordering_key
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[],
            $7::timestamptz[], $8::text[]) WITH ORDINALITY
    AS row (id, gateway, event_id, type, payload, tenant_id, at, ordering_key, n)
ORDER BY n
ON CONFLICT (gateway, event_id) DO NOTHING
RETURNING id
"""


class Row(NamedTuple):
    id: UUID
    gateway: str
    event_id: str
    type: str
    payload: bytes
    tenant_id: str | None
    at: datetime
    ordering_key: str | None = None


class InsertBatcher:
    """``add`` returns whether the row was stored (False: its event id is stored already)."""

    def __init__(self, pool: asyncpg.Pool, max_batch: int = 500, max_flushes: int = 4) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._max_flushes = max_flushes
        self._queue: list[tuple[Row, asyncio.Future[bool]]] = []
        self._flushes: set[asyncio.Task[None]] = set()

    async def add(self, row: Row) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((row, answer))
        self._start_flush()
        return await answer

    def _start_flush(self) -> None:
        if self._queue and len(self._flushes) < self._max_flushes:
            flush = asyncio.create_task(self._flush())
            self._flushes.add(flush)
            flush.add_done_callback(self._flushed)

    def _flushed(self, flush: asyncio.Task[None]) -> None:
        self._flushes.discard(flush)
        self._start_flush()

    async def _flush(self) -> None:
        batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        try:
            stored = await self._insert([row for row, _ in batch])
        except Exception:
            await self._one_by_one(batch)
            return
        for row, answer in batch:
            if not answer.done():
                answer.set_result(row.id in stored)

    async def _one_by_one(self, batch: list[tuple[Row, asyncio.Future[bool]]]) -> None:
        for row, answer in batch:
            try:
                stored = await self._insert([row])
            except Exception as error:
                if not answer.done():
                    answer.set_exception(error)
            else:
                if not answer.done():
                    answer.set_result(row.id in stored)

    async def _insert(self, rows: list[Row]) -> set[UUID]:
        columns = [list(column) for column in zip(*rows, strict=True)]
        return {r["id"] for r in await self._pool.fetch(_INSERT, *columns)}
