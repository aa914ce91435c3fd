"""A keyring in memory: real AES-GCM, keys kept in a dict. For tests and demos."""

from __future__ import annotations

import os
from collections.abc import Collection
from uuid import UUID

from adapters.crypto import AesGcmKeyring, WrappedKey


class MemoryKeyStore:
    """Wrapped keys in a dict; several keyrings may share one (a "restart")."""

    def __init__(self) -> None:
        self.keys: dict[UUID, WrappedKey] = {}

    async def load(self, key_id: UUID) -> WrappedKey | None:
        return self.keys.get(key_id)

    async def load_many(self, key_ids: Collection[UUID]) -> dict[UUID, WrappedKey]:
        return {k: self.keys[k] for k in key_ids if k in self.keys}

    async def add(self, key_id: UUID, key: WrappedKey) -> WrappedKey:
        return self.keys.setdefault(key_id, key)

    async def delete(self, key_id: UUID) -> None:
        self.keys.pop(key_id, None)


class MemoryKeyring(AesGcmKeyring):
    """An ``AesGcmKeyring`` over a ``MemoryKeyStore``; a random master key by default."""

    store: MemoryKeyStore

    def __init__(self, master_key: bytes | None = None, store: MemoryKeyStore | None = None):
        super().__init__(store or MemoryKeyStore(), master_key or os.urandom(32))
