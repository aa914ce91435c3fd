"""Label documents in PostgreSQL (table ``shipment_labels``, migration 0020)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from commerce_core.fulfilment.label_documents import StoredLabel
from commerce_core.fulfilment.ports import LabelFormat

_INSERT = """
INSERT INTO shipment_labels (tenant_id, shipment_id, key, format, sealed_for, content)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, shipment_id, key) DO NOTHING
"""


class PostgresLabelDocuments:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def put(self, tenant_id: str, shipment_id: UUID, key: str, label: StoredLabel) -> None:
        await self._pool.execute(
            _INSERT,
            tenant_id,
            shipment_id,
            key,
            str(label.format),
            label.sealed_for,
            label.content,
        )

    async def get(self, tenant_id: str, shipment_id: UUID, key: str) -> StoredLabel | None:
        row = await self._pool.fetchrow(
            "SELECT format, sealed_for, content FROM shipment_labels"
            " WHERE tenant_id = $1 AND shipment_id = $2 AND key = $3",
            tenant_id,
            shipment_id,
            key,
        )
        if row is None:
            return None
        return StoredLabel(
            format=LabelFormat(row["format"]), sealed_for=row["sealed_for"], content=row["content"]
        )
