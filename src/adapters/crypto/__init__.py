"""Encryption adapters: the ``Keyring`` port on AES-GCM (``cryptography``)."""

from adapters.crypto.aesgcm import AesGcmKeyring
from adapters.crypto.keystore import KeyStore, WrappedKey

__all__ = ["AesGcmKeyring", "KeyStore", "WrappedKey"]
