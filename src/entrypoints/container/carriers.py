"""Each tenant's carriers: its connections (``PUT /admin/carriers/{carrier}``) built into
adapters, the fake in demo mode; label documents and packing slips (ADR 0030).

``CarrierResolver.carrier_for(tenant_id, name)`` is the seam every use case gets a
carrier through. An adapter is built once per connection and kept until the
connection changes (its ``configured_at``), so a UPS token is reused across calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from adapters.carriers import shipengine, ups
from adapters.carriers.shipengine import ShipEngineCarrier
from adapters.carriers.tracking_webhooks import (
    ShipEngineTrackingWebhooks,
    UpsTrackAlertWebhooks,
)
from adapters.carriers.ups import UpsCarrier
from adapters.documents.packing_slip_pdf import FpdfPackingSlips
from adapters.memory.carrier import FakeCarrier
from adapters.memory.carrier_connections import MemoryCarrierConnections
from adapters.memory.label_documents import MemoryLabelDocuments
from adapters.memory.tracked_parcels import MemoryTrackedParcels
from adapters.postgres.carrier_connections import PostgresCarrierConnections
from adapters.postgres.label_documents import PostgresLabelDocuments
from adapters.postgres.tracked_parcels import PostgresTrackedParcels
from commerce_core.fulfilment.connections import (
    CarrierConnection,
    CarrierConnections,
    CarrierDetails,
    CarrierName,
    CarrierNotConnectedError,
    ConnectedCarrier,
    UpsEnvironment,
)
from commerce_core.fulfilment.label_documents import LabelDocuments
from commerce_core.fulfilment.packing_slip import PackingSlipRenderer
from commerce_core.fulfilment.ports import Carrier
from commerce_core.fulfilment.tracking import TrackedParcels, TrackingWebhooks
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.values import Address
from entrypoints.settings import Settings, master_key

DEMO_SHIP_FROM = Address(
    name="Demo warehouse",
    line1="1 Demo Way",
    city="Springfield",
    region="IL",
    postal_code="62701",
    country="US",
)
"""Where the fake carrier's labels ship from when the tenant named no address."""

FALLBACKS = ("fake", "none")


def carrier_connections(settings: Settings, pool: asyncpg.Pool | None) -> CarrierConnections:
    key = master_key(settings)
    return MemoryCarrierConnections(key) if pool is None else PostgresCarrierConnections(pool, key)


def label_documents(pool: asyncpg.Pool | None) -> LabelDocuments:
    return MemoryLabelDocuments() if pool is None else PostgresLabelDocuments(pool)


def tracked_parcels(pool: asyncpg.Pool | None) -> TrackedParcels:
    return MemoryTrackedParcels() if pool is None else PostgresTrackedParcels(pool)


def tracking_webhooks() -> list[TrackingWebhooks]:
    return [ShipEngineTrackingWebhooks(), UpsTrackAlertWebhooks()]


def packing_slips() -> PackingSlipRenderer:
    return FpdfPackingSlips()


@dataclass
class _Built:
    configured_at: datetime
    carrier: Carrier


class CarrierResolver:
    """``TenantCarriers`` over stored connections (see the module's docstring)."""

    def __init__(
        self,
        connections: CarrierConnections,
        fake: FakeCarrier,
        clock: Clock,
        *,
        fallback: str = "fake",
        ups_base: str | None = None,
        shipengine_base: str | None = None,
    ) -> None:
        if fallback not in FALLBACKS:
            raise RuntimeError(f"CARRIER_FALLBACK is one of {FALLBACKS}, not {fallback!r}")
        self._connections = connections
        self.fake = fake
        self._clock = clock
        self._fallback = fallback
        self._ups_base = ups_base
        self._shipengine_base = shipengine_base
        self._built: dict[tuple[str, str], _Built] = {}
        self._retired: list[Carrier] = []

    async def carrier_for(self, tenant_id: str, name: str) -> Carrier:
        return (await self.connected(tenant_id, name)).carrier

    async def connected(self, tenant_id: str, name: str) -> ConnectedCarrier:
        """The tenant's enabled connection ``name``; in demo mode (no connection of the
        tenant enabled, fallback ``fake``) the fake; else ``CarrierNotConnectedError``."""
        tenant = _tenant(tenant_id)
        known = name in {str(c) for c in CarrierName}
        connection = await self._connections.get(tenant, name) if tenant and known else None
        if connection is not None and connection.enabled:
            return ConnectedCarrier(carrier=self._carrier(connection), details=connection.details)
        if self._fallback == "fake" and not await self._has_enabled(tenant):
            return ConnectedCarrier(
                carrier=self.fake, details=CarrierDetails(ship_from=DEMO_SHIP_FROM)
            )
        raise CarrierNotConnectedError(name)

    def invalidate(self, tenant_id: str | UUID) -> None:
        for key in [key for key in self._built if key[0] == str(tenant_id)]:
            self._retire(self._built.pop(key).carrier)

    async def close(self) -> None:
        for built in self._built.values():
            self._retire(built.carrier)
        self._built.clear()
        retired, self._retired = self._retired, []
        for carrier in retired:
            if isinstance(carrier, UpsCarrier | ShipEngineCarrier):
                await carrier.aclose()

    async def _has_enabled(self, tenant: UUID | None) -> bool:
        if tenant is None:
            return False
        return any(summary.enabled for summary in await self._connections.summaries(tenant))

    def _carrier(self, connection: CarrierConnection) -> Carrier:
        key = (str(connection.tenant_id), str(connection.carrier))
        built = self._built.get(key)
        if built is not None and built.configured_at == connection.configured_at:
            return built.carrier
        if built is not None:
            self._retire(built.carrier)
        carrier = self._build(connection)
        self._built[key] = _Built(connection.configured_at, carrier)
        return carrier

    def _build(self, connection: CarrierConnection) -> Carrier:
        secrets, details = connection.secrets.values, connection.details
        if connection.carrier is CarrierName.UPS:
            production = details.environment is UpsEnvironment.PRODUCTION
            return UpsCarrier(
                client_id=secrets["client_id"],
                client_secret=secrets["client_secret"],
                account_number=details.account_number or "",
                clock=self._clock,
                base_url=self._ups_base or (ups.PRODUCTION if production else ups.SANDBOX),
            )
        if connection.carrier is CarrierName.SHIPENGINE:
            return ShipEngineCarrier(
                api_key=secrets["api_key"],
                carrier_ids=details.carrier_ids,
                phone=details.phone or "",
                clock=self._clock,
                base_url=self._shipengine_base or shipengine.PRODUCTION,
            )
        return self.fake

    def _retire(self, carrier: Carrier) -> None:
        if carrier is not self.fake and carrier not in self._retired:
            self._retired.append(carrier)


def _tenant(tenant_id: str) -> UUID | None:
    try:
        return UUID(tenant_id)
    except ValueError:
        return None


def carrier_resolver(
    settings: Settings, connections: CarrierConnections, fake: FakeCarrier, clock: Clock
) -> CarrierResolver:
    return CarrierResolver(
        connections,
        fake,
        clock,
        fallback=settings.carrier_fallback,
        ups_base=settings.ups_api_base,
        shipengine_base=settings.shipengine_api_base,
    )
