"""Stock locations (admin): PUT/GET /admin/locations/{id}, GET /admin/locations (ADR 0031)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import PathParameter

from commerce_core.inventory.location_book import (
    DEFAULT_PRIORITY,
    LOCATION_ID_PATTERN,
    MAX_NAME,
    MAX_PRIORITY,
    Location,
)
from commerce_core.inventory.location_services import (
    find_location,
    put_location,
    tenant_locations,
)
from commerce_core.shared.context import CommandContext
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import Address
from entrypoints.http.api import examples
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of

LocationId = Annotated[
    str, PathParameter(pattern=LOCATION_ID_PATTERN, examples=[Example(value="warehouse-sf")])
]


class LocationIn(msgspec.Struct, forbid_unknown_fields=True):
    """Where the location is (routing measures distance from ``address``), whether it ships
    orders, and its ``priority`` among equally near locations (lower ships first)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
    address: Address
    ships: bool
    priority: Annotated[int, msgspec.Meta(ge=0, le=MAX_PRIORITY)] = DEFAULT_PRIORITY


class LocationOut(msgspec.Struct):
    id: str
    name: str
    address: Address
    ships: bool
    priority: int

    @classmethod
    def of(cls, location: Location) -> LocationOut:
        return cls(
            id=location.id,
            name=location.name,
            address=location.address,
            ships=location.ships,
            priority=location.priority,
        )


class LocationList(msgspec.Struct):
    """Every declared location of the tenant (at most 200, so one page: ``next_cursor`` is
    null). Locations that received stock without being declared are not listed."""

    items: list[LocationOut]
    next_cursor: str | None = None


class LocationsController(Controller):
    path = "/admin/locations"
    tags = ["inventory"]

    @put(
        "/{location_id:str}",
        status_code=200,
        summary="Declare or replace a stock location",
        responses=command_problems("concurrency-conflict"),
    )
    async def put_location(
        self,
        location_id: LocationId,
        data: Annotated[LocationIn, examples.LOCATION],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> LocationOut:
        """Declares the location ``location_id`` or replaces its declaration (admin keys):
        its name, address, whether it ships orders and its priority. Orders placed from
        then on are routed with it (fewest shipments, then nearest, then priority); stock
        already held for orders stays where it is. Records a change only when it differs."""
        location = Location(
            id=location_id,
            name=data.name,
            address=data.address,
            ships=data.ships,
            priority=data.priority,
        )
        saved = await retry_on_conflict(
            lambda: put_location(services.repo, services.clock, ctx, location)
        )
        return LocationOut.of(saved)

    @get(
        "/{location_id:str}",
        summary="Show a stock location",
        responses=query_problems("not-found"),
    )
    async def show_location(
        self,
        location_id: LocationId,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> LocationOut:
        """The location as last declared (admin and staff keys); 404 when the tenant
        declared none by this id. Changes nothing."""
        location = await find_location(services.repo, tenant_of(principal), location_id)
        if location is None:
            raise problem(
                404,
                "not-found",
                f"no declared location {location_id!r}; declare it with"
                f" PUT /api/v1/admin/locations/{location_id}",
            )
        return LocationOut.of(location)

    @get("/", summary="List stock locations", responses=query_problems())
    async def list_locations(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> LocationList:
        """Every declared location of the tenant, in the order first declared (admin and
        staff keys). Changes nothing."""
        locations = await tenant_locations(services.repo, tenant_of(principal))
        return LocationList(items=[LocationOut.of(loc) for loc in locations.values()])
