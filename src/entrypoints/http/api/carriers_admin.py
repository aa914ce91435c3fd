"""Carrier connections (role admin, ADR 0030): a tenant's own UPS or ShipEngine account
(or the built-in ``fake``). Secrets are write-only: stored sealed, never returned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from commerce_core.fulfilment.connections import (
    CarrierConnections,
    CarrierDetails,
    CarrierName,
    CarrierSecrets,
    CarrierSummary,
    ConnectCarrier,
    TenantCarriers,
    UpsEnvironment,
    connect_carrier,
)
from commerce_core.shared.values import Address
from entrypoints.http.api.examples import ADDRESS
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, example_body, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services

_Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CarrierConnectionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Each carrier takes its own fields: UPS ``client_id``, ``client_secret``,
    ``account_number``, ``environment``; ShipEngine ``api_key``, ``carrier_ids``,
    ``phone``; both need ``ship_from``. The fake needs nothing. ``webhook_secret``
    (any carrier, write-only) authenticates its tracking webhooks at
    ``/webhooks/carriers/{carrier}/{tenant_id}`` (ShipEngine: the URL's ``secret``; UPS
    Track Alert: the ``credential`` header)."""

    enabled: bool = True
    ship_from: Address | None = None
    default_weight_grams: Annotated[int, msgspec.Meta(ge=1, le=150_000)] = 1000
    client_id: _Secret | None = None
    client_secret: _Secret | None = None
    account_number: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]{6,10}$")] | None = None
    environment: UpsEnvironment = UpsEnvironment.SANDBOX
    api_key: _Secret | None = None
    webhook_secret: Annotated[str, msgspec.Meta(min_length=16, max_length=512)] | None = None
    carrier_ids: Annotated[list[_Text], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )
    phone: Annotated[str, msgspec.Meta(min_length=3, max_length=32)] | None = None


CONNECTION = Body(
    examples=example_body(
        (
            "UPS in its sandbox",
            {
                "client_id": "your-ups-client-id",
                "client_secret": "your-ups-client-secret",
                "account_number": "A1B2C3",
                "environment": "sandbox",
                "ship_from": ADDRESS,
            },
        ),
        (
            "ShipEngine with one carrier account",
            {
                "api_key": "TEST_your-shipengine-key",
                "carrier_ids": ["se-123456"],
                "phone": "+44 20 7946 0000",
                "ship_from": ADDRESS,
            },
        ),
        ("The built-in test carrier", {"ship_from": ADDRESS}),
    )
)


class CarrierOut(msgspec.Struct, kw_only=True):
    carrier: CarrierName
    enabled: bool
    configured_at: datetime
    ship_from: Address | None
    default_weight_grams: int
    account_number: str | None = None
    environment: UpsEnvironment | None = None
    carrier_ids: list[str] | None = None
    phone: str | None = None

    @classmethod
    def of(cls, summary: CarrierSummary) -> CarrierOut:
        details = summary.details
        ups = summary.carrier is CarrierName.UPS
        shipengine = summary.carrier is CarrierName.SHIPENGINE
        return cls(
            carrier=summary.carrier,
            enabled=summary.enabled,
            configured_at=summary.configured_at,
            ship_from=details.ship_from,
            default_weight_grams=details.default_weight_grams,
            account_number=details.account_number if ups else None,
            environment=details.environment if ups else None,
            carrier_ids=details.carrier_ids if shipengine else None,
            phone=details.phone if shipengine else None,
        )


def _command(carrier: CarrierName, data: CarrierConnectionIn) -> ConnectCarrier:
    secrets = {
        "client_id": data.client_id,
        "client_secret": data.client_secret,
        "api_key": data.api_key,
        "webhook_secret": data.webhook_secret,
    }
    ups = carrier is CarrierName.UPS
    return ConnectCarrier(
        carrier=carrier,
        enabled=data.enabled,
        secrets=CarrierSecrets(values={k: v for k, v in secrets.items() if v is not None}),
        details=CarrierDetails(
            ship_from=data.ship_from,
            default_weight_grams=data.default_weight_grams,
            account_number=data.account_number if ups else None,
            environment=data.environment if ups else None,
            carrier_ids=data.carrier_ids if carrier is CarrierName.SHIPENGINE else [],
            phone=data.phone if carrier is CarrierName.SHIPENGINE else None,
        ),
    )


def _carrier(name: str, status: int) -> CarrierName:
    try:
        return CarrierName(name)
    except ValueError:
        known = ", ".join(str(c) for c in CarrierName)
        slug = "not-found" if status == 404 else "validation-error"
        raise problem(status, slug, f"no carrier {name!r} (one of {known})") from None


def _stores(request: Request[Any, Any, Any]) -> tuple[CarrierConnections, TenantCarriers]:
    container = request.app.state.container
    return container.carrier_connections(), container.carriers()


class CarriersAdminController(Controller):
    path = "/admin/carriers"
    tags = ["admin"]

    @put(
        "/{carrier:str}",
        status_code=200,
        summary="Connect a carrier account",
        responses=command_problems("forbidden"),
    )
    async def connect(
        self,
        carrier: FromPath[str],
        data: Annotated[CarrierConnectionIn, CONNECTION],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> CarrierOut:
        """Stores (replaces) the tenant's account at `ups`, `shipengine` or `fake` (admin);
        labels are then bought through it. Secrets (`client_id`, `client_secret`,
        `api_key`) are stored encrypted and never returned. `enabled: false` keeps the
        connection unused. 422 when a field the carrier needs is missing."""
        name = _carrier(carrier, 422)
        connections, carriers = _stores(request)
        summary = await connect_carrier(
            connections, services.clock, principal.tenant_id, _command(name, data)
        )
        carriers.invalidate(principal.tenant_id)
        return CarrierOut.of(summary)

    @get(
        "/{carrier:str}",
        summary="Show a carrier connection",
        responses=query_problems("forbidden", "not-found"),
    )
    async def show(
        self,
        carrier: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> CarrierOut:
        """The tenant's connection of one carrier, without its secrets (admin)."""
        name = _carrier(carrier, 404)
        connections, _ = _stores(request)
        for summary in await connections.summaries(principal.tenant_id):
            if summary.carrier is name:
                return CarrierOut.of(summary)
        raise problem(404, "not-found", f"carrier {name} is not connected")

    @get("/", summary="List carrier connections", responses=query_problems("forbidden"))
    async def list_carriers(
        self, principal: NamedDependency[Principal], request: Request[Any, Any, Any]
    ) -> list[CarrierOut]:
        """The tenant's carrier connections, without their secrets (admin)."""
        connections, _ = _stores(request)
        return [CarrierOut.of(s) for s in await connections.summaries(principal.tenant_id)]
