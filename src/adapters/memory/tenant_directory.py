"""Every tenant of a ``MemoryTenants`` (same process), for jobs in the memory configuration."""

from __future__ import annotations

from adapters.memory.tenants import MemoryTenants
from commerce_core.tenancy.ports.tenants import Tenant


class MemoryTenantDirectory:
    def __init__(self, tenants: MemoryTenants) -> None:
        self._tenants = tenants

    async def all_tenants(self) -> list[Tenant]:
        # MemoryTenants has no listing of its own (the Tenants port needs none); its
        # table is read here, in the same package.
        return sorted(self._tenants._tenants.values(), key=lambda t: (t.created_at, t.slug))
