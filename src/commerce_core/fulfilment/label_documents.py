"""Where bought labels' documents are kept, sealed (ADR 0030).

A label prints the customer's address, so its bytes are sealed under the customer's
data key (``sealed_for``) before they are stored: erasing the customer makes the
label unreadable with the rest of their personal data.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.fulfilment.ports import LabelFormat


class StoredLabel(msgspec.Struct, frozen=True, kw_only=True):
    format: LabelFormat
    sealed_for: UUID
    content: bytes  # sealed


class LabelDocuments(Protocol):
    """Label documents by (tenant, shipment, intent key).

    - ``put`` keeps the first document stored under a key (a retry stores nothing new).
    - ``get`` returns it, or None.
    """

    async def put(
        self, tenant_id: str, shipment_id: UUID, key: str, label: StoredLabel
    ) -> None: ...

    async def get(self, tenant_id: str, shipment_id: UUID, key: str) -> StoredLabel | None: ...
