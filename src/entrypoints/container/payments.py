"""The payment gateway, each tenant's own gateway, and the payment administration stores.

Gateway configurations are sealed under the same master key as customers' PII
data keys (``PII_MASTER_KEY``, see ``settings.master_key``), under a key derived
for this purpose only.
"""

from __future__ import annotations

import secrets

import asyncpg

from adapters.memory.gateway_configs import MemoryGatewayConfigs
from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.memory.reconciliation import MemoryReconciliationReports
from adapters.payments.resolver import GatewayResolver, stripe_factory
from adapters.payments.stripe import StripeGateway
from adapters.postgres.fake_gateway import PostgresFakeGateway
from adapters.postgres.gateway_configs import PostgresGatewayConfigs
from adapters.postgres.reconciliation import PostgresReconciliationReports
from commerce_core.payments.ports.gateway import PaymentGateway
from commerce_core.payments.ports.gateway_configs import GatewayConfigs
from commerce_core.payments.ports.reconciliation import ReconciliationReports
from entrypoints.settings import Settings, master_key


def payment_gateway(settings: Settings, pool: asyncpg.Pool | None) -> PaymentGateway:
    """Stripe when configured (PAYMENT_GATEWAY=stripe, or auto with STRIPE_SECRET_KEY set);
    otherwise the test gateway, which takes test tokens only (demo mode). On PostgreSQL it
    keeps its payments in its own tables, so the app, a restart and the CLI's jobs see the
    same ones (FAKE_GATEWAY_STORE=memory keeps them in this process)."""
    choice = settings.payment_gateway
    if choice == "auto":
        choice = "stripe" if settings.stripe_secret_key else "fake"
    if choice == "fake":
        if pool is not None and settings.fake_gateway_store == "database":
            return PostgresFakeGateway(pool)
        return FakePaymentGateway(id_tag=secrets.token_hex(3))
    if choice != "stripe":
        raise RuntimeError(f"unknown PAYMENT_GATEWAY {settings.payment_gateway!r}")
    if not settings.stripe_secret_key:
        raise RuntimeError("PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY")
    return StripeGateway(
        settings.stripe_secret_key,
        api_base=settings.stripe_api_base,
        redirect_free=settings.stripe_redirect_free,
    )


def gateway_configs(settings: Settings, pool: asyncpg.Pool | None) -> GatewayConfigs:
    key = master_key(settings)
    return MemoryGatewayConfigs(key) if pool is None else PostgresGatewayConfigs(pool, key)


def reconciliation_reports(pool: asyncpg.Pool | None) -> ReconciliationReports:
    return MemoryReconciliationReports() if pool is None else PostgresReconciliationReports(pool)


def gateway_resolver(
    settings: Settings, configs: GatewayConfigs, default: PaymentGateway
) -> GatewayResolver:
    """Tenants with their own Stripe account get a ``StripeGateway`` on their key (and
    ``STRIPE_API_BASE``); the others get ``default``."""
    factory = stripe_factory(settings.stripe_api_base, settings.stripe_redirect_free)
    return GatewayResolver(configs, default, factory=factory)
