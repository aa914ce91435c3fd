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
        if await self.store.load(key_id) is not None:
            return
        nonce = os.urandom(_NONCE)
        data_key = AESGCM.generate_key(bit_length=256)
        wrapped = nonce + self._kek.encrypt(nonce, data_key, _bind(key_id, b"data-key"))
        await self.store.add(key_id, WrappedKey(self.kek_id, wrapped))

    async def encrypt(self, key_id: UUID, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        data_key = await self._data_key(key_id)
        if data_key is None:
            raise MissingKeyError(key_id)
        nonce = os.urandom(_NONCE)
        sealed = data_key.encrypt(nonce, plaintext, _bind(key_id, associated_data))
        return _FORMAT + nonce + sealed

    async def decrypt(
        self, key_id: UUID, ciphertext: bytes, associated_data: bytes = b""
    ) -> Decrypted:
        data_key = await self._data_key(key_id)
        if data_key is None:
            return ERASED
        if ciphertext[:1] != _FORMAT or len(ciphertext) < 1 + _NONCE + 16:
            raise CorruptCiphertextError("not a ciphertext of this keyring")
        nonce, sealed = ciphertext[1 : 1 + _NONCE], ciphertext[1 + _NONCE :]
        try:
            return data_key.decrypt(nonce, sealed, _bind(key_id, associated_data))
        except InvalidTag:
            raise CorruptCiphertextError("ciphertext or associated data was altered") from None

    async def forget(self, key_id: UUID) -> None:
        await self.store.delete(key_id)

    async def blind_index(self, tenant_id: str, value: str) -> str:
        key = self._tenant_index_keys.get(tenant_id)
        if key is None:
            key = hmac.digest(self._index_root, b"tenant:" + tenant_id.encode(), hashlib.sha256)
            self._tenant_index_keys[tenant_id] = key
        return hmac.digest(key, value.encode(), hashlib.sha256).hex()

    async def _data_key(self, key_id: UUID) -> AESGCM | None:
        stored = await self.store.load(key_id)
        if stored is None:
            return None
        if stored.kek_id != self.kek_id:
            raise KeyringError(f"data key {key_id} was wrapped by master key {stored.kek_id}")
        nonce, wrapped = stored.wrapped[:_NONCE], stored.wrapped[_NONCE:]
        try:
            return AESGCM(self._kek.decrypt(nonce, wrapped, _bind(key_id, b"data-key")))
        except InvalidTag:
            raise KeyringError(f"wrapped data key {key_id} fails authentication") from None
