"""Carriers every tenant reaches alike: the service's own, by name (no per-tenant accounts)."""

from __future__ import annotations

from commerce_core.fulfilment.ports import Carrier


class SharedCarriers:
    """Satisfies ``CarrierDirectory`` with the same carriers for every tenant."""

    def __init__(self, *carriers: Carrier) -> None:
        self._by_name = {carrier.name: carrier for carrier in carriers}

    async def carrier_for(self, tenant_id: str, name: str) -> Carrier | None:
        return self._by_name.get(name)
