"""Sealing and opening personal data through the ``Keyring`` port.

A value is sealed as JSON under the data key ``key_id``, bound to the name of
the event field that will carry it (the associated data), and opened back to a
typed value, or to ``None`` once the key was forgotten. Any aggregate with
personal data in its events (customers, orders' addresses) seals it here.
"""

from __future__ import annotations

import base64
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from commerce_core.shared.pii import Encrypted
from commerce_core.shared.ports.keyring import ERASED, Keyring

T = TypeVar("T")


async def seal(keyring: Keyring, key_id: UUID, field: str, value: Any) -> Encrypted:
    """``value`` (anything msgspec encodes) sealed for the event field ``field``."""
    plaintext = msgspec.json.encode(value)
    ciphertext = await keyring.encrypt(key_id, plaintext, field.encode())
    return Encrypted(key_id, base64.b64encode(ciphertext).decode("ascii"))


async def seal_optional(
    keyring: Keyring, key_id: UUID, field: str, value: Any | None
) -> Encrypted | None:
    return None if value is None else await seal(keyring, key_id, field, value)


async def unseal(keyring: Keyring, sealed: Encrypted | None, field: str, kind: type[T]) -> T | None:
    """The value sealed for ``field``, as ``kind``; ``None`` if absent or erased."""
    plaintext = await _open(keyring, sealed, field)
    return None if plaintext is None else msgspec.json.decode(plaintext, type=kind)


async def _open(keyring: Keyring, sealed: Encrypted | None, field: str) -> bytes | None:
    if sealed is None:
        return None
    plaintext = await keyring.decrypt(
        sealed.key_id, base64.b64decode(sealed.ciphertext), field.encode()
    )
    return None if plaintext is ERASED else plaintext


async def unseal_all(
    keyring: Keyring, sealed: list[Encrypted], field: str, kind: type[T]
) -> list[T]:
    """The values still readable, in order (an erased key leaves an empty list)."""
    opened = [await unseal(keyring, s, field, kind) for s in sealed]
    return [v for v in opened if v is not None]


async def unseal_tree(keyring: Keyring, value: Any, field: str = "") -> Any:
    """``value`` with every ``Encrypted`` inside opened, for exports and timelines.

    Each sealed value is opened with the name of the field that holds it (or
    of the list holding it, or of the struct attribute), as ``seal`` bound it.
    Erased values become ``None``.
    """
    if isinstance(value, Encrypted):
        plaintext = await _open(keyring, value, field)
        return None if plaintext is None else msgspec.json.decode(plaintext)
    if isinstance(value, msgspec.Struct):
        value = msgspec.structs.asdict(value)
    if isinstance(value, dict):
        return {k: await unseal_tree(keyring, v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [await unseal_tree(keyring, v, field) for v in value]
    return value
