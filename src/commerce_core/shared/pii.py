"""Personal data as events carry it: sealed under a data key, never in plain text.

An event field that holds personal data (an email, a name, a phone number, an
address, a note about a person) holds an ``Encrypted`` instead of the value.
The application seals values through the ``Keyring`` port before calling the
aggregate and opens them when it builds a view (``commerce_core.shared.sealing``);
the domain only stores, compares and forgets sealed values. See
docs/adr/0004-pii-encryption.md.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from commerce_core.shared.errors import InvalidValueError


class Encrypted(msgspec.Struct, frozen=True):
    """A value sealed under the data key ``key_id`` (a customer's id).

    ``ciphertext`` is the keyring's output in base64. The associated data it is
    bound to is the name of the event field that carries it (``"email"``,
    ``"addresses"``, ...), so a sealed value moved to another field no longer opens.
    """

    key_id: UUID
    ciphertext: str


def check_sealed_for(key_id: UUID, *values: Encrypted | None) -> None:
    """Refuses values sealed under another key than ``key_id``.

    Forgetting a customer's key must erase all of their personal data, which
    holds only if every value in their stream was sealed with that one key.
    """
    for value in values:
        if value is not None and (not isinstance(value, Encrypted) or value.key_id != key_id):
            raise InvalidValueError(f"personal data must be sealed with key {key_id}")
