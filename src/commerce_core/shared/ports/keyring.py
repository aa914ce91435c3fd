"""The keyring port: per-customer data keys for personal data, and blind indexes."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Final, Literal, Protocol
from uuid import UUID


class Erasure(Enum):
    """The outcome of decrypting under a key that no longer exists."""

    ERASED = "erased"


ERASED: Final = Erasure.ERASED

Decrypted = bytes | Literal[Erasure.ERASED]


class KeyringError(Exception):
    """Base of the errors a keyring raises."""


class MissingKeyError(KeyringError):
    """There is no data key to encrypt with: never created, or forgotten (erased)."""

    def __init__(self, key_id: UUID) -> None:
        super().__init__(f"no data key {key_id}")
        self.key_id = key_id


class CorruptCiphertextError(KeyringError):
    """A ciphertext failed authentication: altered, or bound to other associated data."""


class Keyring(Protocol):
    """Data keys that seal personal data, one per customer (``key_id`` is the customer id).

    - ``create_key`` makes the key if it does not exist yet; calling it again,
      even concurrently, keeps the first key.
    - ``encrypt`` seals ``plaintext`` with the key and binds it to the key id and
      ``associated_data`` (which is not secret and not stored: the caller passes
      the same bytes to ``decrypt``). Two encryptions of one plaintext differ.
      Raises ``MissingKeyError`` when the key does not exist.
    - ``decrypt`` returns the plaintext, or ``ERASED`` when the key does not exist
      (it was forgotten, so what it sealed is gone for good). Raises
      ``CorruptCiphertextError`` when the ciphertext or associated data was altered.
    - ``forget`` deletes the key (crypto-shredding); forgetting twice is harmless.
    - ``holding`` returns a keyring that has fetched the data keys of ``key_ids`` at
      once (one round trip to the key store for all) and seals and opens with them
      without asking again; a key missing at that moment reads as forgotten. It is for
      the work of one request or one batch (a page of customers, a customer's fields):
      kept no longer, so a key forgotten since stops opening anything at the next one.
    - ``blind_index`` is a keyed hash (hex) of ``value`` under a key of the
      tenant: equal values of one tenant give equal indexes, and the index
      reveals nothing of the value to whoever lacks the key. Callers normalize
      the value first (e.g. lower-case an email).

    Keys survive restarts of the process (except in the in-memory adapter).
    """

    async def create_key(self, key_id: UUID) -> None: ...

    async def encrypt(
        self, key_id: UUID, plaintext: bytes, associated_data: bytes = b""
    ) -> bytes: ...

    async def decrypt(
        self, key_id: UUID, ciphertext: bytes, associated_data: bytes = b""
    ) -> Decrypted: ...

    async def forget(self, key_id: UUID) -> None: ...

    async def holding(self, key_ids: Iterable[UUID]) -> Keyring: ...

    async def blind_index(self, tenant_id: str, value: str) -> str: ...
