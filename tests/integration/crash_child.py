"""A process that charges one order on PostgreSQL and is killed (SIGKILL) at one step.

Run by ``test_effects_crash.py``: ``python -m tests.integration.crash_child SCHEMA TENANT
ORDER STEP``. Steps: ``before-call`` (the intent is recorded, the gateway not asked),
``after-call`` (the test gateway charged, nothing recorded yet), ``at-outcome`` (the
outcome's append is about to run), ``at-take`` (the outcome and the order's payment are
recorded, the stock take's append is about to run: ADR 0046).
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

from commerce_core.eventstore import AppendStream, EventMetadata, EventStore, RecordedEvent
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.ports.gateway import GatewayPayment, PaymentGateway
from commerce_core.payments.services import OpenPayment, charge_payment
from commerce_core.shared.context import CommandContext
from entrypoints.container import build_container, open_pool
from entrypoints.settings import Settings
from tests.conftest import TEST_DATABASE_URL


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class DyingGateway:
    def __init__(self, gateway: PaymentGateway, step: str) -> None:
        self.gateway, self.step = gateway, step

    async def charge(self, *args: Any, **kwargs: Any) -> GatewayPayment:
        if self.step == "before-call":
            die()
        answer = await self.gateway.charge(*args, **kwargs)
        if self.step == "after-call":
            die()
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.gateway, name)


class DyingStore:
    """Dies as append number ``dies_at`` is about to run (2: the outcome's, 3: the take's)."""

    def __init__(self, store: EventStore, dies_at: int) -> None:
        self.store, self.appends, self.dies_at = store, 0, dies_at

    async def append(
        self, streams: list[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        self.appends += 1
        if self.appends == self.dies_at:
            die()
        return await self.store.append(streams, metadata)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


_APPENDS = {"at-outcome": 2, "at-take": 3}


async def main(schema: str, tenant_id: str, order_id: str, step: str) -> None:
    settings = dataclasses.replace(
        Settings.from_env(),
        database_url=TEST_DATABASE_URL,
        database_schema=schema,
        event_store="postgres",
    )
    container = build_container(settings)
    async with open_pool(settings) as pool:
        container.pool.override(providers.Object(pool))
        gateway: Any = container.payment_gateway()
        if step in _APPENDS:
            dying = DyingStore(container.event_store(), _APPENDS[step])
            container.event_store.override(providers.Object(dying))
        else:
            gateway = DyingGateway(gateway, step)
        services = PaymentServices(
            repo=container.repository(),
            gateway=gateway,
            clock=container.clock(),
            ids=container.ids(),
        )
        ctx = CommandContext(tenant_id=tenant_id, actor="crash-test")
        command = OpenPayment(order_id=UUID(order_id), token="tok_visa", gateway_name="fake")
        await charge_payment(services, ctx, command, FeeSchedule(basis_points=300))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
