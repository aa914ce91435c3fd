"""Sealing small secrets (gateway keys) with AES-256-GCM under a key from the master key.

HKDF-SHA256 derives, from the master key (the one that wraps PII data keys), a key
for one purpose, so a ciphertext of one purpose never opens under another. Sealed
bytes are ``version (1) | nonce (12) | ciphertext and tag``, bound to the caller's
associated data (e.g. tenant and gateway), so a value copied to another row fails
to open. ``key_id`` names the master key, so a store can tell that its values were
sealed under another one.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from commerce_core.shared.ports.keyring import CorruptCiphertextError

_FORMAT = b"\x01"
_NONCE = 12
_TAG = 16
_KEY_BYTES = 32


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_BYTES, salt=None, info=info).derive(
        master_key
    )


class SecretBox:
    """Seals and opens values for one ``purpose`` under a 32-byte master key."""

    def __init__(self, master_key: bytes, purpose: str) -> None:
        if len(master_key) != _KEY_BYTES:
            raise ValueError("the master key is 32 bytes (e.g. 64 hex digits, decoded)")
        self._aead = AESGCM(_derive(master_key, f"commerce-core/{purpose}".encode()))
        self.key_id = _derive(master_key, f"commerce-core/{purpose}/id".encode())[:8].hex()

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        """The plaintext; ``CorruptCiphertextError`` if anything was altered or moved."""
        if sealed[:1] != _FORMAT or len(sealed) < 1 + _NONCE + _TAG:
            raise CorruptCiphertextError("not a value sealed by this box")
        nonce, body = sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :]
        try:
            return self._aead.decrypt(nonce, body, associated_data)
        except InvalidTag:
            raise CorruptCiphertextError("sealed value or associated data was altered") from None
