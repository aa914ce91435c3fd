"""The ``Keyring`` port on AES-256-GCM, with data keys wrapped by a master key.

From the master key (32 bytes from configuration) HKDF-SHA256 derives a key
encryption key, which wraps each data key, and a blind-index root, from which
each tenant's HMAC-SHA256 key is derived. Ciphertexts are
``version (1 byte) | nonce (12) | AES-GCM ciphertext and tag``, bound to the
data key's id and the caller's associated data. See docs/adr/0004-pii-encryption.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adapters.crypto.keystore import KeyStore, WrappedKey
from commerce_core.shared.ports.keyring import (
    ERASED,
    CorruptCiphertextError,
    Decrypted,
    Keyring,
    KeyringError,
    MissingKeyError,
)

_FORMAT = b"\x01"
_NONCE = 12
_KEY_BYTES = 32


def _derive(master_key: bytes, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=purpose)
    return hkdf.derive(master_key)


def _bind(key_id: UUID, associated_data: bytes) -> bytes:
    # The key id is part of the associated data, so a ciphertext or a wrapped
    # key copied to another customer's row fails to authenticate.
    return key_id.bytes + associated_data


class AesGcmKeyring:
    """Per-customer AES-256-GCM data keys kept, wrapped, in a ``KeyStore``."""

    def __init__(self, store: KeyStore, master_key: bytes) -> None:
        if len(master_key) != _KEY_BYTES:
            raise ValueError("the master key is 32 bytes (e.g. 64 hex digits, decoded)")
        self.store = store
        self._kek = AESGCM(_derive(master_key, b"commerce-core/key-encryption-key"))
        self.kek_id = _derive(master_key, b"commerce-core/key-encryption-key-id")[:8].hex()
        self._index_root = _derive(master_key, b"commerce-core/blind-index")
        self._tenant_index_keys: dict[str, bytes] = {}

    async def create_key(self, key_id: UUID) -> None:
        # no look first: the store keeps an existing key and ignores this one
        nonce = os.urandom(_NONCE)
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = nonce + self._kek.encrypt(nonce, data_key, _bind(key_id, b"data-key"))
        await self.store.add(key_id, WrappedKey(self.kek_id, wrapped))

    async def encrypt(self, key_id: UUID, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        return _sealed(key_id, await self._data_key(key_id), plaintext, associated_data)

    async def decrypt(
        self, key_id: UUID, ciphertext: bytes, associated_data: bytes = b""
    ) -> Decrypted:
        return _opened(key_id, await self._data_key(key_id), ciphertext, associated_data)

    async def forget(self, key_id: UUID) -> None:
        await self.store.delete(key_id)

    async def blind_index(self, tenant_id: str, value: str) -> str:
        key = self._tenant_index_keys.get(tenant_id)
        if key is None:
            key = hmac.digest(self._index_root, b"tenant:" + tenant_id.encode(), hashlib.sha256)
            self._tenant_index_keys[tenant_id] = key
        return hmac.digest(key, value.encode(), hashlib.sha256).hex()

    async def holding(self, key_ids: Iterable[UUID]) -> Keyring:
        return HeldKeys(self, await self.fetched(key_ids))

    async def fetched(self, key_ids: Iterable[UUID]) -> dict[UUID, AESGCM | None]:
        """The data keys of ``key_ids``, unwrapped (``None``: missing), in one round trip."""
        wanted = set(key_ids)
        stored = await self.store.load_many(wanted) if wanted else {}
        return {k: self._unwrapped(k, stored.get(k)) for k in wanted}

    async def _data_key(self, key_id: UUID) -> AESGCM | None:
        return self._unwrapped(key_id, await self.store.load(key_id))

    def _unwrapped(self, key_id: UUID, stored: WrappedKey | None) -> AESGCM | None:
        if stored is None:
            return None
        if stored.kek_id != self.kek_id:
            raise KeyringError(f"data key {key_id} was wrapped by master key {stored.kek_id}")
        nonce, wrapped = stored.wrapped[:_NONCE], stored.wrapped[_NONCE:]
        try:
            return AESGCM(self._kek.decrypt(nonce, wrapped, _bind(key_id, b"data-key")))
        except InvalidTag:
            raise KeyringError(f"wrapped data key {key_id} fails authentication") from None


class HeldKeys:
    """A keyring with some data keys already fetched and unwrapped (``holding``): it
    opens and seals under them with no store round trip and asks its keyring for the
    rest. Forgetting a key through it forgets it here too."""

    def __init__(self, keyring: AesGcmKeyring, held: dict[UUID, AESGCM | None]) -> None:
        self._keyring = keyring
        self._held = held

    async def create_key(self, key_id: UUID) -> None:
        await self._keyring.create_key(key_id)
        self._held.pop(key_id, None)  # held as missing: fetch it when next asked

    async def encrypt(self, key_id: UUID, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        if key_id not in self._held:
            return await self._keyring.encrypt(key_id, plaintext, associated_data)
        return _sealed(key_id, self._held[key_id], plaintext, associated_data)

    async def decrypt(
        self, key_id: UUID, ciphertext: bytes, associated_data: bytes = b""
    ) -> Decrypted:
        if key_id not in self._held:
            return await self._keyring.decrypt(key_id, ciphertext, associated_data)
        return _opened(key_id, self._held[key_id], ciphertext, associated_data)

    async def forget(self, key_id: UUID) -> None:
        await self._keyring.forget(key_id)
        self._held[key_id] = None

    async def holding(self, key_ids: Iterable[UUID]) -> Keyring:
        more = await self._keyring.fetched(k for k in key_ids if k not in self._held)
        return HeldKeys(self._keyring, {**self._held, **more})

    async def blind_index(self, tenant_id: str, value: str) -> str:
        return await self._keyring.blind_index(tenant_id, value)


def _sealed(
    key_id: UUID, data_key: AESGCM | None, plaintext: bytes, associated_data: bytes
) -> bytes:
    if data_key is None:
        raise MissingKeyError(key_id)
    nonce = os.urandom(_NONCE)
    return _FORMAT + nonce + data_key.encrypt(nonce, plaintext, _bind(key_id, associated_data))


def _opened(
    key_id: UUID, data_key: AESGCM | None, ciphertext: bytes, associated_data: bytes
) -> Decrypted:
    if data_key is None:
        return ERASED
    if ciphertext[:1] != _FORMAT or len(ciphertext) < 1 + _NONCE + 16:
        raise CorruptCiphertextError("not a ciphertext of this keyring")
    nonce, sealed = ciphertext[1 : 1 + _NONCE], ciphertext[1 + _NONCE :]
    try:
        return data_key.decrypt(nonce, sealed, _bind(key_id, associated_data))
    except InvalidTag:
        raise CorruptCiphertextError("ciphertext or associated data was altered") from None
