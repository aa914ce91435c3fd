"""Factories of the payment administration adapters, for the container's providers.

Gateway configurations are sealed under the same master key as customers' PII
data keys (``PII_MASTER_KEY``, see ``settings.master_key``), under a key derived
for this purpose only.
"""

from __future__ import annotations

import asyncpg

from adapters.memory.gateway_configs import MemoryGatewayConfigs
from adapters.memory.reconciliation import MemoryReconciliationReports
from adapters.memory.tenant_directory import MemoryTenantDirectory
from adapters.memory.tenants import MemoryTenants
from adapters.payments.resolver import GatewayResolver, stripe_factory
from adapters.postgres.gateway_configs import PostgresGatewayConfigs
from adapters.postgres.reconciliation import PostgresReconciliationReports
from adapters.postgres.tenant_directory import PostgresTenantDirectory
from commerce_core.payments.ports.gateway import PaymentGateway
from commerce_core.payments.ports.gateway_configs import GatewayConfigs
from commerce_core.payments.ports.reconciliation import ReconciliationReports
from commerce_core.tenancy.ports.tenant_directory import TenantDirectory
from commerce_core.tenancy.ports.tenants import Tenants
from entrypoints.settings import Settings, master_key


def gateway_configs(settings: Settings, pool: asyncpg.Pool | None) -> GatewayConfigs:
    key = master_key(settings)
    return MemoryGatewayConfigs(key) if pool is None else PostgresGatewayConfigs(pool, key)


def reconciliation_reports(pool: asyncpg.Pool | None) -> ReconciliationReports:
    return MemoryReconciliationReports() if pool is None else PostgresReconciliationReports(pool)


def tenant_directory(pool: asyncpg.Pool | None, tenants: Tenants) -> TenantDirectory:
    if pool is None:
        assert isinstance(tenants, MemoryTenants)
        return MemoryTenantDirectory(tenants)
    return PostgresTenantDirectory(pool)


def gateway_resolver(
    settings: Settings, configs: GatewayConfigs, default: PaymentGateway
) -> GatewayResolver:
    """Tenants with their own Stripe account get a ``StripeGateway`` on their key (and
    ``STRIPE_API_BASE``); the others get ``default``."""
    factory = stripe_factory(settings.stripe_api_base, settings.stripe_redirect_free)
    return GatewayResolver(configs, default, factory=factory)
