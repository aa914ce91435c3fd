"""A customer's tags: sealed as new events hold them (ADR 0021), and blind-indexed for search
(ADR 0025)."""

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


async def tag_index(keyring: Keyring, tenant_id: str, tag: str) -> str:
    """The blind index of a normalized tag for ``tenant_id``: the customer list finds tags by it.

    The ``tag:`` prefix keeps a tag's index apart from any email's.
    """
    return await keyring.blind_index(tenant_id, f"tag:{tag}")
