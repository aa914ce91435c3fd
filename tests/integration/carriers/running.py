"""The adapters wired to their vendors' spec-checked local servers (contract and hostile tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.carriers.worlds import ShipEngineWorld, UpsWorld

from adapters.carriers.shipengine import ShipEngineCarrier
from adapters.carriers.ups import UpsCarrier
from adapters.memory.clock import FixedClock

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _no_violations(server: Server) -> None:
    assert server.violations == [], "\n".join(server.violations)


@asynccontextmanager
async def ups(
    world: UpsWorld | None = None, clock: FixedClock | None = None
) -> AsyncIterator[tuple[UpsCarrier, UpsWorld, Server]]:
    world = world or UpsWorld()
    with serve(world) as server:
        carrier = UpsCarrier(
            client_id=world.client_id,
            client_secret=world.client_secret,
            account_number="A1B2C3",
            clock=clock or FixedClock(T0),
            base_url=server.url,
        )
        try:
            yield carrier, world, server
        finally:
            await carrier.aclose()
        _no_violations(server)


@asynccontextmanager
async def shipengine(
    world: ShipEngineWorld | None = None, clock: FixedClock | None = None
) -> AsyncIterator[tuple[ShipEngineCarrier, ShipEngineWorld, Server]]:
    world = world or ShipEngineWorld()
    with serve(world) as server:
        world.base_url = server.url
        carrier = ShipEngineCarrier(
            api_key=world.api_key,
            carrier_ids=["se-161650"],
            phone="+1 555 0100",
            clock=clock or FixedClock(T0),
            base_url=server.url,
        )
        try:
            yield carrier, world, server
        finally:
            await carrier.aclose()
        _no_violations(server)
