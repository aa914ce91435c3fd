"""Tenants' gateway configurations in memory, sealed as in PostgreSQL (for tests and demos)."""

from __future__ import annotations

from uuid import UUID

from adapters.crypto.gateway_secrets import GatewaySecrets, SealedCredentials
from commerce_core.payments.ports.gateway_configs import GatewayConfig, GatewaySummary


class MemoryGatewayConfigs:
    """Keeps each configuration's summary and its sealed credentials, never the plaintext."""

    def __init__(self, master_key: bytes) -> None:
        self._secrets = GatewaySecrets(master_key)
        self.rows: dict[tuple[UUID, str], tuple[GatewaySummary, SealedCredentials]] = {}

    async def put(self, config: GatewayConfig) -> None:
        sealed = self._secrets.seal(config.tenant_id, config.gateway, config.credentials)
        self.rows[(config.tenant_id, config.gateway)] = (config.summary, sealed)

    async def get(self, tenant_id: UUID, gateway: str) -> GatewayConfig | None:
        row = self.rows.get((tenant_id, gateway))
        if row is None:
            return None
        summary, sealed = row
        return GatewayConfig(
            tenant_id=tenant_id,
            gateway=gateway,
            enabled=summary.enabled,
            configured_at=summary.configured_at,
            publishable_key=summary.publishable_key,
            credentials=self._secrets.open(tenant_id, gateway, sealed),
        )

    async def summaries(self, tenant_id: UUID) -> list[GatewaySummary]:
        found = [summary for (tenant, _), (summary, _) in self.rows.items() if tenant == tenant_id]
        return sorted(found, key=lambda s: s.gateway)
