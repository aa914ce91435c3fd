"""Tenants' carrier connections in memory, sealed as in PostgreSQL (tests, demos)."""

from __future__ import annotations

from uuid import UUID

from adapters.crypto.carrier_secrets import CarrierSecretBox
from adapters.crypto.gateway_secrets import SealedCredentials
from commerce_core.fulfilment.connections import CarrierConnection, CarrierSummary


class MemoryCarrierConnections:
    """Keeps each connection's summary and its sealed secrets, never the plaintext."""

    def __init__(self, master_key: bytes) -> None:
        self._secrets = CarrierSecretBox(master_key)
        self.rows: dict[tuple[UUID, str], tuple[CarrierSummary, SealedCredentials]] = {}

    async def put(self, connection: CarrierConnection) -> None:
        sealed = self._secrets.seal(connection.tenant_id, connection.carrier, connection.secrets)
        self.rows[(connection.tenant_id, str(connection.carrier))] = (connection.summary, sealed)

    async def get(self, tenant_id: UUID, carrier: str) -> CarrierConnection | None:
        row = self.rows.get((tenant_id, carrier))
        if row is None:
            return None
        summary, sealed = row
        return CarrierConnection(
            tenant_id=tenant_id,
            carrier=summary.carrier,
            enabled=summary.enabled,
            configured_at=summary.configured_at,
            details=summary.details,
            secrets=self._secrets.open(tenant_id, carrier, sealed),
        )

    async def summaries(self, tenant_id: UUID) -> list[CarrierSummary]:
        found = [summary for (tenant, _), (summary, _) in self.rows.items() if tenant == tenant_id]
        return sorted(found, key=lambda s: str(s.carrier))
