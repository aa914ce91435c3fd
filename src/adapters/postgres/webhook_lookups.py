"""The webhook lookup in PostgreSQL: gateway payments' tenants (table of migration 0007).

A worker processes a batch of events side by side, and each of the platform's payment
events remembers its payment's tenant: those that arrive while an insert runs are stored
together by the next one (one multi-row statement), as ``webhook_batches`` stores
webhooks. If a batch fails, its rows are tried one by one, so that one bad row fails alone.
"""

from __future__ import annotations

import asyncio

import asyncpg

_INSERT = """
INSERT INTO gateway_payment_tenants (gateway, gateway_payment_id, tenant_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
ON CONFLICT DO NOTHING
"""

Key = tuple[str, str]  # gateway, gateway payment id


class PostgresPaymentTenants:
    """Remembers (in this process) the last ``cache_size`` payments it stored, so that the
    many events of one payment write its tenant once."""

    def __init__(self, pool: asyncpg.Pool, cache_size: int = 10_000) -> None:
        self._pool = pool
        self._stored: dict[Key, None] = {}  # insertion-ordered: oldest first
        self._cache_size = cache_size
        self._queue: list[tuple[Key, str, asyncio.Future[None]]] = []
        self._flush: asyncio.Task[None] | None = None

    async def remember(self, gateway: str, gateway_payment_id: str, tenant_id: str) -> None:
        key = (gateway, gateway_payment_id)
        if key in self._stored:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((key, tenant_id, done))
        self._start_flush()
        await done
        if len(self._stored) >= self._cache_size:
            del self._stored[next(iter(self._stored))]
        self._stored[key] = None

    def _start_flush(self) -> None:
        # in a task of its own: a caller that goes away never leaves its batch waiting
        if self._queue and self._flush is None:
            self._flush = asyncio.create_task(self._insert_queued())
            self._flush.add_done_callback(self._flushed)

    def _flushed(self, _: asyncio.Task[None]) -> None:
        self._flush = None
        self._start_flush()

    async def _insert_queued(self) -> None:
        batch, self._queue = self._queue, []
        try:
            await self._insert([(key, tenant) for key, tenant, _ in batch])
        except Exception:
            for key, tenant, done in batch:
                try:
                    await self._insert([(key, tenant)])
                except Exception as error:
                    _answer(done, error)
                else:
                    _answer(done, None)
            return
        for _, _, done in batch:
            _answer(done, None)

    async def _insert(self, rows: list[tuple[Key, str]]) -> None:
        await self._pool.execute(
            _INSERT,
            [key[0] for key, _ in rows],
            [key[1] for key, _ in rows],
            [tenant for _, tenant in rows],
        )

    async def tenant_of(self, gateway: str, gateway_payment_id: str) -> str | None:
        tenant: str | None = await self._pool.fetchval(
            "SELECT tenant_id FROM gateway_payment_tenants"
            " WHERE gateway = $1 AND gateway_payment_id = $2",
            gateway,
            gateway_payment_id,
        )
        return tenant


def _answer(done: asyncio.Future[None], error: Exception | None) -> None:
    if done.done():  # its caller was cancelled
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
