"""A process that buys one shipment's label through ShipEngine on PostgreSQL and is killed
(SIGKILL) at one step.

Run by ``test_labels_crash.py``: ``python -m tests.integration.label_crash_child SCHEMA
TENANT SHIPMENT SHIPENGINE_URL STEP``. Steps: ``before-call`` (the intent is recorded,
ShipEngine not asked), ``after-call`` (ShipEngine sold the label, nothing stored or
recorded yet).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
from typing import Any
from uuid import UUID

from dependency_injector import providers

from commerce_core.fulfilment.connections import ConnectedCarrier, TenantCarriers
from commerce_core.fulfilment.ports import Carrier, Label
from commerce_core.processes.labels import BuyLabel, buy_shipment_label
from commerce_core.processes.shipping_services import ShippingServices
from commerce_core.shared.context import CommandContext
from entrypoints.container import build_container, open_pool
from entrypoints.settings import Settings
from tests.conftest import TEST_DATABASE_URL


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class DyingCarrier:
    def __init__(self, carrier: Carrier, step: str) -> None:
        self.carrier, self.step = carrier, step

    async def create_label(self, **kwargs: Any) -> Label:
        if self.step == "before-call":
            die()
        label = await self.carrier.create_label(**kwargs)
        if self.step == "after-call":
            die()
        return label

    def __getattr__(self, name: str) -> Any:
        return getattr(self.carrier, name)


class DyingCarriers:
    def __init__(self, carriers: TenantCarriers, step: str) -> None:
        self.carriers, self.step = carriers, step

    async def carrier_for(self, tenant_id: str, name: str) -> Any:
        return DyingCarrier(await self.carriers.carrier_for(tenant_id, name), self.step)

    async def connected(self, tenant_id: str, name: str) -> ConnectedCarrier:
        found = await self.carriers.connected(tenant_id, name)
        dying: Any = DyingCarrier(found.carrier, self.step)
        return ConnectedCarrier(carrier=dying, details=found.details)

    def invalidate(self, tenant_id: Any) -> None:
        self.carriers.invalidate(tenant_id)


async def main(schema: str, tenant_id: str, shipment_id: str, url: str, step: str) -> None:
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=TEST_DATABASE_URL,
        database_schema=schema,
        event_store="postgres",
        shipengine_api_base=url,
    )
    container = build_container(settings)
    async with open_pool(settings) as pool:
        container.pool.override(providers.Object(pool))
        services = ShippingServices(
            repo=container.repository(),
            clock=container.clock(),
            ids=container.ids(),
            carriers=DyingCarriers(container.carriers(), step),
            keyring=container.keyring(),
            labels=container.label_documents(),
            parcels=container.tracked_parcels(),
        )
        ctx = CommandContext(tenant_id=tenant_id, actor="crash-test")
        command = BuyLabel(carrier="shipengine", service="usps_priority_mail")
        await buy_shipment_label(services, ctx, UUID(shipment_id), command)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
