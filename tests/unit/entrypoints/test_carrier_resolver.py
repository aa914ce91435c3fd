"""Each tenant's carriers: its connections built into adapters once, the fake in demo mode."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.carriers.shipengine import ShipEngineCarrier
from adapters.carriers.ups import UpsCarrier
from adapters.memory.carrier import FakeCarrier
from adapters.memory.carrier_connections import MemoryCarrierConnections
from adapters.memory.clock import FixedClock
from commerce_core.fulfilment.connections import (
    CarrierConnection,
    CarrierDetails,
    CarrierName,
    CarrierNotConnectedError,
    CarrierSecrets,
)
from commerce_core.shared.values import Address
from entrypoints.container.carriers import DEMO_SHIP_FROM, CarrierResolver

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
HOME = Address(name="Mugs", line1="9 Dock Rd", city="Austin", postal_code="78701", country="US")


def shipengine(tenant: uuid.UUID, minutes: int = 0, enabled: bool = True) -> CarrierConnection:
    return CarrierConnection(
        tenant_id=tenant,
        carrier=CarrierName.SHIPENGINE,
        enabled=enabled,
        configured_at=T0 + timedelta(minutes=minutes),
        details=CarrierDetails(ship_from=HOME, carrier_ids=["se-1"], phone="+1 555 0100"),
        secrets=CarrierSecrets(values={"api_key": "TEST_key"}),
    )


@pytest.fixture
def connections() -> MemoryCarrierConnections:
    return MemoryCarrierConnections(bytes(range(32)))


def resolver(connections: MemoryCarrierConnections, fallback: str = "fake") -> CarrierResolver:
    return CarrierResolver(connections, FakeCarrier(), FixedClock(T0), fallback=fallback)


async def test_a_tenant_without_connections_gets_the_fake_shipping_from_the_demo_address(
    connections: MemoryCarrierConnections,
) -> None:
    carriers = resolver(connections)

    found = await carriers.connected(str(uuid.uuid4()), "ups")

    assert (found.carrier, found.details.ship_from) == (carriers.fake, DEMO_SHIP_FROM)


async def test_a_connection_is_built_once_and_rebuilt_when_it_changes(
    connections: MemoryCarrierConnections,
) -> None:
    tenant = uuid.uuid4()
    carriers = resolver(connections)
    await connections.put(shipengine(tenant))

    first = await carriers.carrier_for(str(tenant), "shipengine")
    again = await carriers.carrier_for(str(tenant), "shipengine")
    await connections.put(shipengine(tenant, minutes=1))
    changed = await carriers.carrier_for(str(tenant), "shipengine")

    assert isinstance(first, ShipEngineCarrier)
    assert again is first
    assert changed is not first
    await carriers.close()


async def test_with_a_connection_enabled_other_carriers_are_not_connected(
    connections: MemoryCarrierConnections,
) -> None:
    tenant = uuid.uuid4()
    carriers = resolver(connections)
    await connections.put(shipengine(tenant))

    with pytest.raises(CarrierNotConnectedError):
        await carriers.carrier_for(str(tenant), "ups")
    with pytest.raises(CarrierNotConnectedError):
        await carriers.carrier_for(str(tenant), "pigeon")


async def test_a_disabled_connection_is_not_used(connections: MemoryCarrierConnections) -> None:
    tenant = uuid.uuid4()
    carriers = resolver(connections, fallback="none")
    await connections.put(shipengine(tenant, enabled=False))

    with pytest.raises(CarrierNotConnectedError):
        await carriers.carrier_for(str(tenant), "shipengine")


async def test_another_tenants_connection_is_not_used(
    connections: MemoryCarrierConnections,
) -> None:
    carriers = resolver(connections, fallback="none")
    await connections.put(shipengine(uuid.uuid4()))

    with pytest.raises(CarrierNotConnectedError):
        await carriers.carrier_for(str(uuid.uuid4()), "shipengine")


def test_ups_is_not_a_deduplicating_carrier() -> None:
    ups = UpsCarrier(client_id="a", client_secret="b", account_number="A1", clock=FixedClock(T0))
    assert not ups.deduplicates
