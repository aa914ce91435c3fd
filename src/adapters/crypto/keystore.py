"""Where wrapped data keys are kept: memory for tests, PostgreSQL in production."""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple, Protocol
from uuid import UUID


class WrappedKey(NamedTuple):
    """A data key encrypted under a master key; ``kek_id`` names that master key."""

    kek_id: str
    wrapped: bytes


class KeyStore(Protocol):
    """Storage of wrapped keys; it never sees a key in the clear.

    ``add`` stores the key unless one exists for ``key_id`` and returns the stored
    one, so concurrent creators all end up with the first key.
    """

    async def load(self, key_id: UUID) -> WrappedKey | None: ...

    async def load_many(self, key_ids: Collection[UUID]) -> dict[UUID, WrappedKey]:
        """The stored keys among ``key_ids`` (the missing ones left out)."""
        ...

    async def add(self, key_id: UUID, key: WrappedKey) -> WrappedKey: ...

    async def delete(self, key_id: UUID) -> None: ...
