"""Order numbers in PostgreSQL: one SEQUENCE per tenant, created on its first order.

Why a sequence: ``nextval`` takes no row lock and is never rolled back, so
concurrent place-order calls of one tenant never wait for each other. A counter
row updated inside the order's transaction would serialize them for as long
as that transaction stays open; even an autocommit
``INSERT ... ON CONFLICT DO UPDATE SET n = n + 1`` makes every number a row
lock plus a commit of its own (a WAL flush) on one hot row per tenant.

What the port asks, and how this gives it:
- **Unique, increasing per tenant**: ``nextval`` hands out each value once, in
  the order calls reach the sequence, across every session and process. The
  sequence keeps the default ``CACHE 1``; a larger cache would hand each
  session its own block of numbers and break "increasing in call order".
- **Gaps, never repeats**: a number taken for an order that is then refused is
  gone (the port allows gaps), and after a crash a sequence skips ahead (it
  logs 32 values at a time). A number an order was saved with can never come
  back: the sequence's WAL record precedes the order's commit record, which is
  flushed before the order is acknowledged.
- **Independent tenants**: the sequence is named ``order_numbers_`` and the
  first 32 hex digits of SHA-256 of the tenant id, so any tenant id maps to a
  valid identifier of its own. It lives in the connection's schema
  (``search_path``), like the other tables.

No migration is needed: a missing sequence is created (``CREATE SEQUENCE IF NOT
EXISTS``) by the call that finds it missing. Two sessions creating the same
sequence at once may collide in the catalog (a unique violation); the loser
simply asks ``nextval`` again.
"""

from __future__ import annotations

import contextlib
import hashlib

import asyncpg

from adapters.postgres.connection import Connection
from commerce_core.shared.values import OrderNumber, format_order_number

_ATTEMPTS = 3
_CREATE_RACES = (
    asyncpg.UniqueViolationError,
    asyncpg.DuplicateTableError,
    asyncpg.exceptions.DuplicateObjectError,
)


def sequence_name(tenant_id: str) -> str:
    """The tenant's sequence: a plain identifier whatever the tenant id holds."""
    return "order_numbers_" + hashlib.sha256(tenant_id.encode()).hexdigest()[:32]


class PostgresOrderNumbers:
    """The ``OrderNumbers`` port over one PostgreSQL sequence per tenant."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def next(self, tenant_id: str) -> OrderNumber:
        name = sequence_name(tenant_id)
        async with self._pool.acquire() as conn:
            for _ in range(_ATTEMPTS):
                try:
                    value = await conn.fetchval("SELECT nextval($1::regclass)", name)
                except asyncpg.UndefinedTableError:
                    await _create(conn, name)
                    continue
                return format_order_number(int(value))
        raise RuntimeError(f"could not create the order number sequence {name}")


async def _create(conn: Connection, name: str) -> None:
    # A race lost to another session creating it a moment ago is as good as a win.
    with contextlib.suppress(*_CREATE_RACES):
        await conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {name} AS bigint START 1")
