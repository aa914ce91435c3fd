"""A shop of one real tenant (a UUID id, settings) on memory adapters, for the jobs specs.

Jobs look tenants up in a directory, find candidates in the orders read model (the
real ``OrderList`` projection over the shop's events) and pick each tenant's gateway
through a ``GatewayResolver``; events are recorded at the shop's clock, as the
reconciliation reads them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adapters.memory.gateway_configs import MemoryGatewayConfigs
from adapters.memory.order_queries import MemoryOrderQueries
from adapters.memory.readmodel import MemoryReadModel
from adapters.memory.reconciliation import MemoryReconciliationReports
from adapters.payments.resolver import GatewayResolver
from commerce_core.catalog.services import PutProduct, put_product
from commerce_core.inventory.services import (
    ReceiveStock,
    StockLevels,
    receive_stock,
    stock_levels,
)
from commerce_core.ordering.order import Order
from commerce_core.ordering.services import CustomerRef
from commerce_core.processes.payment_jobs import JobServices
from commerce_core.projections.order_list import OrderList
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.tenancy.ports.tenants import Tenant, TenantSettings
from tests.unit.shop import Shop

MASTER_KEY = bytes(range(32))
TENANT_ID = uuid.UUID("6d1f0c3e-2b7a-4c55-9a0e-0d7f5e3b1a01")
TENANT_KEY = str(TENANT_ID)
STAFF = CommandContext(tenant_id=TENANT_KEY, actor="staff-1")


def a_tenant(settings: TenantSettings | None = None, tenant_id: uuid.UUID = TENANT_ID) -> Tenant:
    return Tenant(
        id=tenant_id,
        slug=f"t-{tenant_id.hex[:8]}",
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        settings=settings or TenantSettings(),
    )


class TenantShop(Shop):
    """``Shop`` acting for ``TENANT_ID``, with a gateway resolver and report storage."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.store._clock = self.clock.now  # recorded_at follows the shop's clock
        self.configs = MemoryGatewayConfigs(MASTER_KEY)
        self.gateways = GatewayResolver(self.configs, self.gateway)
        self.reports = MemoryReconciliationReports()

    async def stock(self, sku: str, price: int = 1000, quantity: int = 10) -> None:
        defined = PutProduct(sku=sku, name=sku.title(), price=Money(price, "USD"))
        await put_product(self.repo, self.clock, STAFF, defined)
        receipt = ReceiveStock(sku=sku, quantity=quantity, location_id="default")
        await receive_stock(self.repo, self.clock, STAFF, receipt)

    async def order_for(
        self, *lines: tuple[str, int], customer: CustomerRef | None = None, **fields: object
    ) -> Order:
        return await self.place(*lines, customer=customer, ctx=STAFF, **fields)

    async def stock_of(self, sku: str) -> StockLevels:
        return await stock_levels(self.repo, TENANT_KEY, sku, self.clock.now())

    async def job_services(self) -> JobServices:
        """The jobs' ports, with the orders read model as of now (``order_list``)."""
        return JobServices(
            repo=self.repo,
            clock=self.clock,
            ids=self.ids,
            gateways=self.gateways,
            order_queries=await self.order_list(),
        )

    async def order_list(self) -> MemoryOrderQueries:
        """The orders read model as of now (the projection caught up with every event)."""
        read_model = MemoryReadModel()
        async with ProjectionRunner(self.store, read_model, [OrderList()]) as runner:
            await runner.wait_for("order_list", await self.store.head())
        return MemoryOrderQueries(read_model)
