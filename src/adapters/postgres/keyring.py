"""Wrapped data keys in PostgreSQL (table ``customer_keys``, migration 0002)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import asyncpg

from adapters.crypto import AesGcmKeyring, WrappedKey
from commerce_core.shared.ports.keyring import KeyringError

# Inserts unless the key exists, and returns whichever key is stored, in one
# round trip. The SELECT sees only rows committed before the statement began,
# so when a concurrent creator commits first it returns nothing: then a new
# statement reads the winner's key.
_ADD = """
WITH added AS (
    INSERT INTO customer_keys (key_id, kek_id, wrapped_key) VALUES ($1, $2, $3)
    ON CONFLICT (key_id) DO NOTHING
    RETURNING kek_id, wrapped_key
)
SELECT kek_id, wrapped_key FROM added
UNION ALL
SELECT kek_id, wrapped_key FROM customer_keys WHERE key_id = $1
LIMIT 1
"""


class PostgresKeyStore:
    """Deleting a row is the crypto-shredding: what the key sealed is then unreadable."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(self, key_id: UUID) -> WrappedKey | None:
        row = await self._pool.fetchrow(
            "SELECT kek_id, wrapped_key FROM customer_keys WHERE key_id = $1", key_id
        )
        return None if row is None else WrappedKey(row["kek_id"], row["wrapped_key"])

    async def load_many(self, key_ids: Collection[UUID]) -> dict[UUID, WrappedKey]:
        if not key_ids:
            return {}
        rows = await self._pool.fetch(
            "SELECT key_id, kek_id, wrapped_key FROM customer_keys WHERE key_id = ANY($1::uuid[])",
            list(key_ids),
        )
        return {row["key_id"]: WrappedKey(row["kek_id"], row["wrapped_key"]) for row in rows}

    async def add(self, key_id: UUID, key: WrappedKey) -> WrappedKey:
        row = await self._pool.fetchrow(_ADD, key_id, key.kek_id, key.wrapped)
        if row is not None:
            return WrappedKey(row["kek_id"], row["wrapped_key"])
        stored = await self.load(key_id)
        if stored is None:  # created by another and forgotten at once
            raise KeyringError(f"data key {key_id} was forgotten while being created")
        return stored

    async def delete(self, key_id: UUID) -> None:
        await self._pool.execute("DELETE FROM customer_keys WHERE key_id = $1", key_id)


class PostgresKeyring(AesGcmKeyring):
    """An ``AesGcmKeyring`` whose keys survive restarts, in ``customer_keys``."""

    def __init__(self, pool: asyncpg.Pool, master_key: bytes) -> None:
        super().__init__(PostgresKeyStore(pool), master_key)
