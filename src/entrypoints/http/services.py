"""What handlers need, resolved once per app from the container; the caller's command context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency

from commerce_core.eventstore import EventStore, Repository
from commerce_core.fulfilment.connections import TenantCarriers
from commerce_core.fulfilment.label_documents import LabelDocuments
from commerce_core.fulfilment.tracking import TrackedParcels
from commerce_core.marketplace.ports import Marketplace
from commerce_core.ordering.ports.order_numbers import OrderNumbers
from commerce_core.ordering.ports.order_queries import OrderQueries
from commerce_core.payments.ports.gateway import PaymentGateway
from commerce_core.payments.ports.gateway_configs import TenantGateways
from commerce_core.projections.ports.analytics import AnalyticsQueries
from commerce_core.projections.ports.lists import ListQueries
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.tenancy.ports.tenants import Tenants, TenantSettings
from entrypoints.container import Container
from entrypoints.http.auth import Principal


class Gateways(TenantGateways, Protocol):
    """Each tenant's gateway and marketplace: its own account's when it configured one."""

    async def marketplace_for(self, tenant_id: str | UUID) -> Marketplace: ...

    def invalidate(self, tenant_id: str | UUID) -> None:
        """Forgets the tenant's gateway, so that a new configuration applies at once."""
        ...


@dataclass(frozen=True)
class Services:
    store: EventStore
    repo: Repository
    clock: Clock
    ids: Ids
    keyring: Keyring
    order_numbers: OrderNumbers
    gateway: PaymentGateway
    carriers: TenantCarriers
    labels: LabelDocuments
    parcels: TrackedParcels
    tenants: Tenants
    order_queries: OrderQueries
    analytics: AnalyticsQueries
    gateways: Gateways
    read_models: ReadModelStore
    list_queries: ListQueries

    @classmethod
    def from_container(cls, c: Container) -> Services:
        return cls(
            store=c.event_store(),
            repo=c.repository(),
            clock=c.clock(),
            ids=c.ids(),
            keyring=c.keyring(),
            order_numbers=c.order_numbers(),
            gateway=c.payment_gateway(),
            carriers=c.carriers(),
            labels=c.label_documents(),
            parcels=c.tracked_parcels(),
            tenants=c.cached_tenants(),
            order_queries=c.order_queries(),
            analytics=c.analytics_queries(),
            gateways=c.gateway_resolver(),
            read_models=c.read_models(),
            list_queries=c.list_queries(),
        )


def provide_services(request: Request[Any, Any, Any]) -> Services:
    services: Services = request.app.state.services
    return services


def provide_ctx(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    idempotency_key: NamedDependency[str | None],
) -> CommandContext:
    """The command context: tenant and actor from the key, correlation id = request id."""
    request_id = request.scope.get("state", {}).get("request_id")
    return CommandContext(
        tenant_id=str(principal.tenant_id),
        actor=f"key:{principal.key_id}",
        correlation_id=request_id,
        causation_id=request_id,
        idempotency_key=idempotency_key,
    )


def tenant_of(principal: Principal) -> str:
    return str(principal.tenant_id)


async def tenant_settings(services: Services, principal: Principal) -> TenantSettings:
    tenant = await services.tenants.get_tenant(principal.tenant_id)
    return tenant.settings if tenant is not None else TenantSettings()


async def tenant_gateway(services: Services, tenant_id: str) -> PaymentGateway:
    """The tenant's own gateway when it configured one (PUT /admin/gateways), else the default."""
    return await services.gateways.for_tenant(tenant_id)


async def tenant_marketplace(services: Services, tenant_id: str) -> Marketplace:
    """The marketplace (sellers' accounts) of the tenant's gateway."""
    return await services.gateways.marketplace_for(tenant_id)
