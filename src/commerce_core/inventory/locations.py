"""Which locations hold stock of a SKU: lets reads and reservations find every StockItem."""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/stock-locations")


class SkuLocations(Aggregate):
    """The locations of one SKU of one tenant, in the order they first received stock."""

    tenant_id: str
    sku: str
    locations: list[str]

    @staticmethod
    @lru_cache(maxsize=65_536)  # named as often as the SKU's stock items (ADR 0047)
    def id_for(tenant_id: str, sku: str) -> UUID:
        return uuid5(_NAMESPACE, f"{tenant_id}/{sku}")

    @staticmethod
    def create_id(tenant_id: str, sku: str) -> UUID:
        return SkuLocations.id_for(tenant_id, sku)

    @event("Started")
    def __init__(self, tenant_id: str, sku: str) -> None:
        self.tenant_id = tenant_id
        self.sku = sku
        self.locations = []

    def add(self, location_id: str) -> None:
        if location_id not in self.locations:
            self._added(location_id)

    @event("Added")
    def _added(self, location_id: str) -> None:
        self.locations.append(location_id)
