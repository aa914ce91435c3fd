"""A tenant's declared stock locations: one aggregate per tenant, its state built from its events.

Declaring a location is optional: stock received at a location nobody declared
(``default`` included) ships, has no address and ranks after every declared
location (ADR 0031). A declaration gives the location a name, an address that
routing measures distance from, whether it ships, and a priority.

One stream holds all of a tenant's locations because routing an order reads them
all at once (one read).
"""

from __future__ import annotations

import re
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.stream_ids import derived_id
from commerce_core.shared.values import Address

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/stock-location-book")

LOCATION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
"""A location id: 1 to 64 letters, digits, ``.``, ``_`` or ``-`` (as stock receipts name it)."""
MAX_LOCATIONS = 200
MAX_NAME = 100
MAX_PRIORITY = 10_000
DEFAULT_PRIORITY = 100
"""Lower ships first: priority 1 before 2. Undeclared locations come after every declared one."""


class Location(msgspec.Struct, frozen=True, kw_only=True):
    """A declared location: where it is, whether it ships orders, and its rank."""

    id: str
    name: str
    address: Address
    ships: bool
    priority: int = DEFAULT_PRIORITY

    def __post_init__(self) -> None:
        if not re.fullmatch(LOCATION_ID_PATTERN, self.id):
            raise InvalidValueError(f"location id {self.id!r} does not match {LOCATION_ID_PATTERN}")
        if not self.name.strip() or len(self.name) > MAX_NAME:
            raise InvalidValueError(
                f"location {self.id} needs a name of 1 to {MAX_NAME} characters"
            )
        if isinstance(self.priority, bool) or not 0 <= self.priority <= MAX_PRIORITY:
            raise InvalidValueError(f"priority must be 0 to {MAX_PRIORITY}, got {self.priority!r}")


class StockLocations(Aggregate):
    """The locations ``tenant_id`` declared, by id, in the order first declared."""

    tenant_id: str
    locations: dict[str, Location]
    updated_at: datetime

    @staticmethod
    def id_for(tenant_id: str) -> UUID:
        return derived_id(_NAMESPACE, tenant_id)

    @classmethod
    def start(cls, tenant_id: str, at: datetime) -> StockLocations:
        return cls(id=cls.id_for(tenant_id), tenant_id=tenant_id, at=at)

    @event("Started")
    def __init__(self, id: UUID, tenant_id: str, at: datetime) -> None:
        self.tenant_id = tenant_id
        self.locations = {}
        self.updated_at = at

    def put(self, location: Location, at: datetime) -> None:
        """Declares ``location`` or replaces its declaration; records nothing when unchanged."""
        if self.locations.get(location.id) == location:
            return
        if location.id not in self.locations and len(self.locations) >= MAX_LOCATIONS:
            raise InvalidValueError(f"a tenant declares at most {MAX_LOCATIONS} locations")
        self._location_put(location, at)

    @event("LocationPut")
    def _location_put(self, location: Location, at: datetime) -> None:
        self.locations[location.id] = location
        self.updated_at = at

    def listed(self) -> list[Location]:
        return list(self.locations.values())
