"""The relay's checkpoint in PostgreSQL (migration 0025)."""

from __future__ import annotations

import asyncpg

from commerce_core.eventstore import Position
from commerce_core.eventstore.records import START

_SAVE = """
INSERT INTO relay_checkpoints (name, tx_id, global_position) VALUES ($1, $2::xid8, $3)
ON CONFLICT (name) DO UPDATE
SET tx_id = excluded.tx_id, global_position = excluded.global_position, last_error = NULL,
    updated_at = now()
"""

_ERROR = """
INSERT INTO relay_checkpoints (name, last_error) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET last_error = excluded.last_error, updated_at = now()
"""


class PostgresRelayCheckpoint:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(self, relay: str) -> Position:
        row = await self._pool.fetchrow(
            "SELECT tx_id, global_position FROM relay_checkpoints WHERE name = $1",
            relay,
        )
        return START if row is None else Position(row["tx_id"], row["global_position"])

    async def save(self, relay: str, position: Position) -> None:
        await self._pool.execute(_SAVE, relay, position.tx_id, position.global_position)

    async def record_error(self, relay: str, error: str | None) -> None:
        await self._pool.execute(_ERROR, relay, error)

    async def last_error(self, relay: str) -> str | None:
        error: str | None = await self._pool.fetchval(
            "SELECT last_error FROM relay_checkpoints WHERE name = $1", relay
        )
        return error
