"""The webhook lookup in memory: gateway payments' tenants."""

from __future__ import annotations


class MemoryPaymentTenants:
    def __init__(self) -> None:
        self._tenants: dict[tuple[str, str], str] = {}

    async def remember(self, gateway: str, gateway_payment_id: str, tenant_id: str) -> None:
        self._tenants.setdefault((gateway, gateway_payment_id), tenant_id)

    async def tenant_of(self, gateway: str, gateway_payment_id: str) -> str | None:
        return self._tenants.get((gateway, gateway_payment_id))
