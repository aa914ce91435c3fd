"""The composition root: the one place that chooses and builds concrete adapters.

Each module here builds one kind of adapter from the settings and the pool:
``database`` (the pool, connections of their own, migrations), ``stores``, ``payments``,
``projections`` (locks, rebuild store), ``webhooks``, ``limits`` (the rate limiter),
``tenant_cache`` (the HTTP processes' cache of tenants and keys), ``carriers`` (tenants'
carrier connections, label documents, packing slips), ``channels``
(tenants' POS connections and the adapters built from them), ``merchant_webhooks``
(endpoints, deliveries, the sender), ``notifications`` (notifications, templates, the
outbox, the SMTP and Twilio senders) and ``relay`` (the integration event relay's
checkpoint and publisher).
Tests override the providers.
"""

from __future__ import annotations

import asyncpg
from dependency_injector import containers, providers

from adapters.memory.carrier import FakeCarrier
from adapters.memory.clock import RandomIds, SystemClock
from commerce_core.eventstore import EventMapper, Repository
from entrypoints.container import carriers as carrier_wiring
from entrypoints.container import channels as channel_wiring
from entrypoints.container import (
    limits,
    payments,
    projections,
    relay,
    stores,
    tenant_cache,
    webhooks,
)
from entrypoints.container import merchant_webhooks as merchant_hooks
from entrypoints.container import notifications as notify
from entrypoints.container.database import apply_migrations, open_pool
from entrypoints.container.projections import LocksFactory
from entrypoints.http.metrics import MetricsRegistry
from entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    """Adapters chosen by configuration. The app's lifespan opens the pool and provides it."""

    settings = providers.Dependency(instance_of=Settings)
    pool: providers.Dependency[asyncpg.Pool | None] = providers.Dependency(default=None)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    event_store = providers.Singleton(stores.event_store, settings, pool, clock)
    mapper = providers.Singleton(EventMapper)
    repository = providers.Singleton(
        Repository,
        store=event_store,
        mapper=mapper,
        snapshot_every=settings.provided.snapshot_every,
    )
    tenants = providers.Singleton(stores.tenants, pool)
    # the HTTP processes' view: cached, forgotten on changes (ADR 0050)
    cached_tenants = providers.Singleton(tenant_cache.cached_tenants, settings, tenants)
    tenancy_listener = providers.Singleton(
        tenant_cache.tenancy_listener, settings, pool, cached_tenants
    )
    idempotency = providers.Singleton(stores.idempotency, pool)
    metrics = providers.Singleton(MetricsRegistry)
    keyring = providers.Singleton(stores.keyring, settings, pool)
    plain_tag_sealer = providers.Factory(stores.plain_tag_sealer, pool, keyring)
    order_numbers = providers.Singleton(stores.order_numbers, pool)
    payment_gateway = providers.Singleton(payments.payment_gateway, settings, pool)
    carrier = providers.Singleton(FakeCarrier)  # the fake: demo mode, `fake` connections
    carrier_connections = providers.Singleton(carrier_wiring.carrier_connections, settings, pool)
    carriers = providers.Singleton(
        carrier_wiring.carrier_resolver, settings, carrier_connections, carrier, clock
    )
    label_documents = providers.Singleton(carrier_wiring.label_documents, pool)
    tracked_parcels = providers.Singleton(carrier_wiring.tracked_parcels, pool)
    tracking_webhooks = providers.Singleton(carrier_wiring.tracking_webhooks)
    packing_slips = providers.Singleton(carrier_wiring.packing_slips)
    pos_connections = providers.Singleton(channel_wiring.pos_connections, settings, pool)
    pos_oauth_states = providers.Singleton(channel_wiring.pos_oauth_states, pool)
    pos_oauth_apps = providers.Singleton(channel_wiring.PosOAuthApps, settings)
    pos_resolver = providers.Singleton(
        channel_wiring.pos_resolver, settings, clock, pos_connections, pos_oauth_apps
    )
    read_models = providers.Singleton(stores.read_models, pool)
    order_queries = providers.Singleton(stores.order_queries, pool, read_models)
    analytics_queries = providers.Singleton(stores.analytics_queries, pool, read_models)
    list_queries = providers.Singleton(stores.list_queries, pool, read_models)
    gateway_configs = providers.Singleton(payments.gateway_configs, settings, pool)
    reconciliation_reports = providers.Singleton(payments.reconciliation_reports, pool)
    tenant_directory = providers.Singleton(stores.tenant_directory, pool, tenants)
    gateway_resolver = providers.Singleton(
        payments.gateway_resolver, settings, gateway_configs, payment_gateway
    )
    # new ones per caller: each projection runner, jobs loop and set of projection
    # operations opens and closes its own locks and keeps its own rebuild runs
    projection_locks = providers.Factory(projections.projection_locks, settings, pool)
    rebuilds = providers.Factory(projections.rebuild_store, pool, read_models)
    webhook_inbox = providers.Singleton(webhooks.webhook_inbox, pool)
    payment_tenants = providers.Singleton(webhooks.payment_tenants, pool)
    stripe_webhooks = providers.Singleton(webhooks.stripe_webhooks, settings)
    rate_limiter = providers.Singleton(limits.rate_limiter, settings, clock.provider)
    webhook_deliveries = providers.Singleton(merchant_hooks.webhook_deliveries, pool)
    webhook_endpoints = providers.Singleton(
        merchant_hooks.webhook_endpoints, settings, pool, webhook_deliveries
    )
    webhook_sender = providers.Singleton(merchant_hooks.webhook_sender)
    host_resolver = providers.Singleton(merchant_hooks.host_resolver)
    relay_checkpoint = providers.Singleton(relay.relay_checkpoint, pool)
    integration_publisher = providers.Singleton(relay.integration_publisher, settings)
    notifications = providers.Singleton(notify.notifications, pool)
    notification_templates = providers.Singleton(notify.notification_templates, pool)
    outbox = providers.Singleton(notify.outbox)
    email_sender = providers.Singleton(notify.email_sender, settings, outbox)
    sms_sender = providers.Singleton(notify.sms_sender, settings, outbox)


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)


__all__ = [
    "Container",
    "LocksFactory",
    "apply_migrations",
    "build_container",
    "open_pool",
]
