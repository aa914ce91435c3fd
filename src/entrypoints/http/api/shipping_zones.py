"""Delivery zones (admin): PUT/GET /admin/shipping/zones/{code}, GET /admin/shipping/zones."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import PathParameter

from commerce_core.fulfilment.zone_services import find_zone, put_zone, tenant_zones
from commerce_core.fulfilment.zones import (
    CARRIER_PATTERN,
    CODE_PATTERN,
    MAX_DELIVERY_DAYS,
    MAX_WEIGHT_GRAMS,
    POSTAL_PREFIX_PATTERN,
    REGION_PATTERN,
    SERVICE_PATTERN,
    MethodSpec,
    Zone,
)
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import Address
from entrypoints.http.api import examples
from entrypoints.http.api.schemas import MoneyIn, MoneyOut
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of

ZoneCode = Annotated[str, PathParameter(pattern=CODE_PATTERN, examples=[Example(value="us-west")])]
_Code = Annotated[str, msgspec.Meta(pattern=CODE_PATTERN)]
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
_Days = Annotated[int, msgspec.Meta(ge=0, le=MAX_DELIVERY_DAYS)]


def _money(value: MoneyIn | None) -> Money | None:
    return value.to_money() if value is not None else None


def _out(value: Money | None) -> MoneyOut | None:
    return MoneyOut.of(value) if value is not None else None


class MethodIn(msgspec.Struct, forbid_unknown_fields=True):
    """Either ``price`` (the zone prices it) or ``carrier`` + ``service`` (the carrier's
    live rate, plus ``handling_fee``). All amounts of a method share one currency."""

    code: _Code
    name: _Name
    price: MoneyIn | None = None
    carrier: Annotated[str, msgspec.Meta(pattern=CARRIER_PATTERN)] | None = None
    service: Annotated[str, msgspec.Meta(pattern=SERVICE_PATTERN)] | None = None
    handling_fee: MoneyIn | None = None
    free_over: MoneyIn | None = None
    min_subtotal: MoneyIn | None = None
    max_weight_grams: Annotated[int, msgspec.Meta(gt=0, le=MAX_WEIGHT_GRAMS)] | None = None
    delivery_days: Annotated[list[_Days], msgspec.Meta(min_length=2, max_length=2)] | None = None

    def spec(self) -> MethodSpec:
        days = self.delivery_days
        return MethodSpec(
            code=self.code,
            name=self.name,
            price=_money(self.price),
            carrier=self.carrier,
            service=self.service,
            handling_fee=_money(self.handling_fee),
            free_over=_money(self.free_over),
            min_subtotal=_money(self.min_subtotal),
            max_weight_grams=self.max_weight_grams,
            delivery_days=(days[0], days[1]) if days is not None else None,
        )


class ZoneIn(msgspec.Struct, forbid_unknown_fields=True):
    """Countries (ISO 3166-1 alpha-2), optionally narrowed to regions (the ISO 3166-2
    subdivision code, e.g. ``CA``) and postal-code prefixes (upper case, no spaces)."""

    name: _Name
    countries: Annotated[
        list[Annotated[str, msgspec.Meta(pattern="^[A-Z]{2}$")]], msgspec.Meta(min_length=1)
    ]
    methods: Annotated[list[MethodIn], msgspec.Meta(min_length=1, max_length=20)]
    regions: list[Annotated[str, msgspec.Meta(pattern=REGION_PATTERN)]] = msgspec.field(
        default_factory=list
    )
    postal_prefixes: list[Annotated[str, msgspec.Meta(pattern=POSTAL_PREFIX_PATTERN)]] = (
        msgspec.field(default_factory=list)
    )
    ship_from: Address | None = None

    def zone(self, code: str) -> Zone:
        return Zone(
            code=code,
            name=self.name,
            countries=tuple(self.countries),
            regions=tuple(self.regions),
            postal_prefixes=tuple(self.postal_prefixes),
            methods=tuple(method.spec() for method in self.methods),
            ship_from=self.ship_from,
        )


class MethodOut(msgspec.Struct):
    code: str
    name: str
    price: MoneyOut | None
    carrier: str | None
    service: str | None
    handling_fee: MoneyOut | None
    free_over: MoneyOut | None
    min_subtotal: MoneyOut | None
    max_weight_grams: int | None
    delivery_days: list[int] | None

    @classmethod
    def of(cls, m: MethodSpec) -> MethodOut:
        return cls(
            code=m.code,
            name=m.name,
            price=_out(m.price),
            carrier=m.carrier,
            service=m.service,
            handling_fee=_out(m.handling_fee),
            free_over=_out(m.free_over),
            min_subtotal=_out(m.min_subtotal),
            max_weight_grams=m.max_weight_grams,
            delivery_days=list(m.delivery_days) if m.delivery_days is not None else None,
        )


class ZoneOut(msgspec.Struct):
    code: str
    name: str
    countries: list[str]
    regions: list[str]
    postal_prefixes: list[str]
    methods: list[MethodOut]
    ship_from: Address | None

    @classmethod
    def of(cls, zone: Zone) -> ZoneOut:
        return cls(
            code=zone.code,
            name=zone.name,
            countries=list(zone.countries),
            regions=list(zone.regions),
            postal_prefixes=list(zone.postal_prefixes),
            methods=[MethodOut.of(m) for m in zone.methods],
            ship_from=zone.ship_from,
        )


class ZoneList(msgspec.Struct):
    """Every zone of the tenant (at most 100, so one page: ``next_cursor`` is null)."""

    items: list[ZoneOut]
    next_cursor: str | None = None


class ShippingZonesController(Controller):
    path = "/admin/shipping/zones"
    tags = ["shipping"]

    @put(
        "/{code:str}",
        status_code=200,
        summary="Create or replace a delivery zone",
        responses=command_problems("concurrency-conflict"),
    )
    async def put_zone(
        self,
        code: ZoneCode,
        data: Annotated[ZoneIn, examples.SHIPPING_ZONE],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> ZoneOut:
        """Creates the zone ``code`` or replaces it (admin keys). Where the zone matches
        and its methods: each priced by the zone or by a carrier's rate. A zone that
        could tie with another for some address (same kind of match on a shared country)
        is refused with 422; the most specific zone wins (postal prefix, then region,
        then country). Records a change only when the zone differs."""
        zone = data.zone(code)
        saved = await retry_on_conflict(lambda: put_zone(services.repo, services.clock, ctx, zone))
        return ZoneOut.of(saved)

    @get("/{code:str}", summary="Show a delivery zone", responses=query_problems("not-found"))
    async def show_zone(
        self,
        code: ZoneCode,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> ZoneOut:
        """The zone as last put (admin keys); 404 when the tenant has none by this code.
        Changes nothing."""
        zone = await find_zone(services.repo, tenant_of(principal), code)
        if zone is None:
            raise problem(404, "not-found", f"no shipping zone {code!r}")
        return ZoneOut.of(zone)

    @get("/", summary="List delivery zones", responses=query_problems())
    async def list_zones(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> ZoneList:
        """Every zone of the tenant in the order first put (admin keys). Changes nothing."""
        zones = await tenant_zones(services.repo, tenant_of(principal))
        return ZoneList(items=[ZoneOut.of(zone) for zone in zones])
