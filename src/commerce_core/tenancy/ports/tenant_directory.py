"""Every tenant, for work that runs for all of them (jobs)."""

from __future__ import annotations

from typing import Protocol

from commerce_core.tenancy.ports.tenants import Tenant


class TenantDirectory(Protocol):
    """``all_tenants`` lists every tenant with its settings, oldest first."""

    async def all_tenants(self) -> list[Tenant]: ...
