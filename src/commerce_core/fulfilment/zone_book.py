"""A tenant's delivery zones: one aggregate per tenant, its state built from its events.

One stream holds all of a tenant's zones because a zone is judged against the
others (two zones that could tie for an address are refused) and a quote needs
them all at once: one read, and one expected version that makes two concurrent
puts conflict instead of both passing the overlap check.
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from commerce_core.fulfilment.zones import Zone, overlap
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.stream_ids import derived_id

_ZONES_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/shipping-zones")
MAX_ZONES = 100


class ShippingZones(Aggregate):
    """The zones of ``tenant_id`` by code, in the order they were first put."""

    tenant_id: str
    zones: dict[str, Zone]
    updated_at: datetime

    @staticmethod
    def id_for(tenant_id: str) -> UUID:
        return derived_id(_ZONES_NAMESPACE, tenant_id)

    @classmethod
    def start(cls, tenant_id: str, at: datetime) -> ShippingZones:
        return cls(id=cls.id_for(tenant_id), tenant_id=tenant_id, at=at)

    @event("Started")
    def __init__(self, id: UUID, tenant_id: str, at: datetime) -> None:
        self.tenant_id = tenant_id
        self.zones = {}
        self.updated_at = at

    def put(self, zone: Zone, at: datetime) -> None:
        """Creates or replaces ``zone``; records nothing when it is unchanged. Refused:
        a zone that would tie with another for some address, or one zone too many."""
        if self.zones.get(zone.code) == zone:
            return
        if zone.code not in self.zones and len(self.zones) >= MAX_ZONES:
            raise InvalidValueError(f"a tenant has at most {MAX_ZONES} zones")
        for other in self.zones.values():
            if other.code != zone.code and (why := overlap(zone, other)) is not None:
                raise InvalidValueError(
                    f"{why}: narrow one of them (regions, postal_prefixes) so one is more specific"
                )
        self._zone_put(zone, at)

    @event("ZonePut")
    def _zone_put(self, zone: Zone, at: datetime) -> None:
        self.zones[zone.code] = zone
        self.updated_at = at

    def listed(self) -> list[Zone]:
        return list(self.zones.values())
