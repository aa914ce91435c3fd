"""A customer's tag sealed as new events hold it (ADR 0021), for tags recorded in plain text."""

from __future__ import annotations

from uuid import UUID

from commerce_core.shared.pii import Encrypted
from commerce_core.shared.ports.keyring import Keyring, MissingKeyError
from commerce_core.shared.sealing import seal


async def seal_tag(keyring: Keyring, customer_id: UUID, tag: str) -> Encrypted | None:
    """``tag`` sealed under the customer's key; None once the customer was erased."""
    try:
        return await seal(keyring, customer_id, "tags", tag)
    except MissingKeyError:
        return None
