"""Per-tenant carrier connections: a tenant's own UPS or ShipEngine account (ADR 0030).

``PUT /admin/carriers/{carrier}`` stores the account: its secrets (UPS client id and
secret, ShipEngine API key) sealed at rest by the store and never returned; what may
be shown (account number, environment, carrier ids, phone, the ship-from address, the
default parcel weight) in ``details``. ``fake`` is a connection too: it lets a tenant
choose the built-in test carrier (demos, tests) explicitly.

``TenantCarriers.carrier_for(tenant, name)`` is the one seam every use case gets a
carrier through (labels here, quotes and zones elsewhere).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.fulfilment.ports import Carrier
from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.values import Address


class CarrierName(StrEnum):
    UPS = "ups"
    SHIPENGINE = "shipengine"
    FAKE = "fake"


class UpsEnvironment(StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


DEFAULT_WEIGHT_GRAMS = 1000
"""The parcel weight a label is bought for when neither the request nor the connection
says (products carry no weight yet)."""


class CarrierSecrets(msgspec.Struct, frozen=True, kw_only=True):
    """The secrets of a carrier account, by name (``client_id``, ``client_secret``,
    ``api_key``); ``repr`` hides them so logs never show them."""

    values: dict[str, str]

    def __repr__(self) -> str:
        return f"CarrierSecrets({', '.join(f'{name}=***' for name in sorted(self.values))})"

    def __str__(self) -> str:
        return repr(self)


class CarrierDetails(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What may be shown of a connection; each carrier uses the fields it needs."""

    ship_from: Address | None = None
    default_weight_grams: int = DEFAULT_WEIGHT_GRAMS
    account_number: str | None = None  # UPS
    environment: UpsEnvironment | None = None  # UPS
    carrier_ids: list[str] = msgspec.field(default_factory=list)  # ShipEngine
    phone: str | None = None  # ShipEngine: the number carriers call about a parcel


class CarrierSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A connection without its secrets."""

    carrier: CarrierName
    enabled: bool
    configured_at: datetime
    details: CarrierDetails


class CarrierConnection(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    carrier: CarrierName
    enabled: bool
    configured_at: datetime
    details: CarrierDetails
    secrets: CarrierSecrets

    @property
    def summary(self) -> CarrierSummary:
        return CarrierSummary(
            carrier=self.carrier,
            enabled=self.enabled,
            configured_at=self.configured_at,
            details=self.details,
        )


class CarrierConnections(Protocol):
    """Storage of tenants' carrier connections; secrets are encrypted at rest.

    - ``put`` stores (or replaces) the tenant's connection of ``connection.carrier``.
    - ``get`` returns it with its secrets opened, or None.
    - ``summaries`` lists the tenant's connections without secrets (nothing is
      opened), by carrier name.
    """

    async def put(self, connection: CarrierConnection) -> None: ...

    async def get(self, tenant_id: UUID, carrier: str) -> CarrierConnection | None: ...

    async def summaries(self, tenant_id: UUID) -> list[CarrierSummary]: ...


class CarrierNotConnectedError(DomainError):
    """The tenant has no enabled connection of this carrier (and no fallback applies)."""

    def __init__(self, carrier: str) -> None:
        super().__init__(
            f"carrier {carrier!r} is not connected: PUT /admin/carriers/{carrier} first"
        )
        self.carrier = carrier


class ConnectedCarrier(msgspec.Struct, frozen=True, kw_only=True):
    """A carrier ready to use, and the connection's details (ship-from, parcel default)."""

    carrier: Carrier
    details: CarrierDetails


class TenantCarriers(Protocol):
    """The carriers a tenant ships with.

    ``carrier_for(tenant_id, name)``: the tenant's connection ``name`` when it is
    configured and enabled; else, in demo mode (no connection of the tenant enabled and
    the fake allowed by configuration), the built-in fake carrier; else
    ``CarrierNotConnectedError``. ``connected`` also gives the connection's details.
    ``invalidate`` forgets what was built for the tenant after its connections change.
    """

    async def carrier_for(self, tenant_id: str, name: str) -> Carrier: ...

    async def connected(self, tenant_id: str, name: str) -> ConnectedCarrier: ...

    def invalidate(self, tenant_id: str | UUID) -> None: ...


class ConnectCarrier(msgspec.Struct, frozen=True, kw_only=True):
    carrier: CarrierName
    details: CarrierDetails
    secrets: CarrierSecrets
    enabled: bool = True


REQUIRED: dict[CarrierName, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # carrier -> (secrets, details) it cannot work without
    CarrierName.UPS: (("client_id", "client_secret"), ("account_number", "ship_from")),
    CarrierName.SHIPENGINE: (("api_key",), ("carrier_ids", "phone", "ship_from")),
    CarrierName.FAKE: ((), ()),
}


def check_connection(command: ConnectCarrier) -> None:
    secrets, details = REQUIRED[command.carrier]
    missing = [name for name in secrets if not command.secrets.values.get(name)]
    missing += [name for name in details if not getattr(command.details, name)]
    if missing:
        raise InvalidValueError(f"a {command.carrier} connection needs {', '.join(missing)}")
    if command.details.default_weight_grams <= 0:
        raise InvalidValueError("default_weight_grams must be positive")


async def connect_carrier(
    connections: CarrierConnections, clock: Clock, tenant_id: UUID, command: ConnectCarrier
) -> CarrierSummary:
    """``PUT /admin/carriers/{carrier}``: stores (replaces) the tenant's connection. The
    caller's ``TenantCarriers`` should forget the tenant's carriers after this."""
    check_connection(command)
    connection = CarrierConnection(
        tenant_id=tenant_id,
        carrier=command.carrier,
        enabled=command.enabled,
        configured_at=clock.now(),
        details=command.details,
        secrets=command.secrets,
    )
    await connections.put(connection)
    return connection.summary
