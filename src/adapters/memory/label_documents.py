"""Label documents in memory (tests, the in-memory event store)."""

from __future__ import annotations

from uuid import UUID

from commerce_core.fulfilment.label_documents import StoredLabel


class MemoryLabelDocuments:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, UUID, str], StoredLabel] = {}

    async def put(self, tenant_id: str, shipment_id: UUID, key: str, label: StoredLabel) -> None:
        self.rows.setdefault((tenant_id, shipment_id, key), label)

    async def get(self, tenant_id: str, shipment_id: UUID, key: str) -> StoredLabel | None:
        return self.rows.get((tenant_id, shipment_id, key))
