"""The webhook lookups in memory: gateway payments' tenants and seller accounts."""

from __future__ import annotations

import msgspec

from commerce_core.ports.webhooks import SellerAccount


class MemoryPaymentTenants:
    def __init__(self) -> None:
        self._tenants: dict[tuple[str, str], str] = {}

    async def remember(self, gateway: str, gateway_payment_id: str, tenant_id: str) -> None:
        self._tenants.setdefault((gateway, gateway_payment_id), tenant_id)

    async def tenant_of(self, gateway: str, gateway_payment_id: str) -> str | None:
        return self._tenants.get((gateway, gateway_payment_id))


class MemorySellerAccounts:
    def __init__(self) -> None:
        self._accounts: dict[tuple[str, str], SellerAccount] = {}

    async def record(self, account: SellerAccount) -> bool:
        key = (account.gateway, account.account_id)
        stored = self._accounts.get(key)
        if stored is None:
            self._accounts[key] = account
            return True
        tenant = stored.tenant_id or account.tenant_id
        newer = (stored.as_of, stored.event_id) < (account.as_of, account.event_id)
        kept = account if newer else stored
        self._accounts[key] = msgspec.structs.replace(kept, tenant_id=tenant)
        return newer

    async def get(self, gateway: str, account_id: str) -> SellerAccount | None:
        return self._accounts.get((gateway, account_id))
