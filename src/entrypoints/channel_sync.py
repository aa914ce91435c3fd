"""The POS pull in the background work (``BACKGROUND_WORK`` part ``channels``, ADR 0037):
every ``POS_SYNC_SECONDS`` each enabled connection that is due (not backing off, not
dead-lettered) is pulled from its stored cursor. Several processes may pull the same
connection at once: imports are idempotent by external id, so nothing is taken twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

from commerce_core.payments.fees import FeeSchedule
from commerce_core.processes.pos_orders import PosImportServices
from commerce_core.processes.pos_sync import PosFor, sync_due
from commerce_core.tenancy.fee_terms import tenant_fee_schedule
from commerce_core.tenancy.ports.tenants import TenantSettings
from entrypoints.container import Container
from entrypoints.polling import polling


@dataclass(frozen=True)
class ChannelSync:
    """What the pull (the loop, the forced pull route, the tests) works with."""

    services: PosImportServices
    pos_for: PosFor

    async def step(self) -> int:
        return await sync_due(self.services, self.pos_for)


def pos_import_services(container: Container) -> PosImportServices:
    tenants = container.tenants()

    async def fees(tenant_id: str) -> FeeSchedule:
        tenant = await tenants.get_tenant(UUID(tenant_id))
        return tenant_fee_schedule(tenant.settings if tenant else TenantSettings())

    return PosImportServices(
        repo=container.repository(),
        clock=container.clock(),
        order_numbers=container.order_numbers(),
        keyring=container.keyring(),
        connections=container.pos_connections(),
        fees=fees,
    )


def channel_sync(container: Container) -> ChannelSync:
    return ChannelSync(pos_import_services(container), container.pos_resolver().pos_for)


@asynccontextmanager
async def running_channel_sync(sync: ChannelSync, interval: float) -> AsyncIterator[ChannelSync]:
    async def round_on_a_timer() -> None:  # every interval, however much a round pulled
        await sync.step()

    async with polling(round_on_a_timer, name="channels.sync", pause=interval):
        yield sync
