"""The composition root: the one place that chooses and builds concrete adapters."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from dependency_injector import containers, providers

from adapters.memory.analytics_queries import MemoryAnalyticsQueries
from adapters.memory.carrier import FakeCarrier
from adapters.memory.clock import RandomIds, SystemClock
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.memory.keyring import MemoryKeyring
from adapters.memory.order_numbers import MemoryOrderNumbers
from adapters.memory.order_queries import MemoryOrderQueries
from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.memory.readmodel import MemoryReadModel
from adapters.memory.tenants import MemoryTenants
from adapters.payments.stripe import StripeGateway
from adapters.postgres.analytics_queries import PostgresAnalyticsQueries
from adapters.postgres.connection import create_pool
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.keyring import PostgresKeyring
from adapters.postgres.order_numbers import PostgresOrderNumbers
from adapters.postgres.order_queries import PostgresOrderQueries
from adapters.postgres.tenants import PostgresTenants
from commerce_core.eventstore import EventMapper, Repository
from commerce_core.ordering.ports.order_numbers import OrderNumbers
from commerce_core.ordering.ports.order_queries import OrderQueries
from commerce_core.payments.ports.gateway import PaymentGateway
from commerce_core.projections.ports.analytics import AnalyticsQueries
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.shared.ports.idempotency import IdempotencyStore
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.tenancy.ports.tenants import Tenants
from entrypoints import payment_providers
from entrypoints.http.metrics import MetricsRegistry
from entrypoints.projections import read_model_store
from entrypoints.settings import Settings, master_key


@asynccontextmanager
async def open_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool | None]:
    """The database pool for the process's lifetime (None with the memory event store)."""
    if settings.event_store != "postgres":
        yield None
        return
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set (make run starts an embedded PostgreSQL)")
    pool = await create_pool(
        settings.database_url,
        schema=settings.database_schema,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
    )
    try:
        yield pool
    finally:
        await pool.close()


def _event_store(
    settings: Settings, pool: asyncpg.Pool | None, clock: SystemClock
) -> PostgresEventStore | MemoryEventStore:
    if pool is None:
        return MemoryEventStore(clock=clock.now)
    return PostgresEventStore(pool, clock=clock.now, poll_interval=settings.poll_interval)


def _tenants(pool: asyncpg.Pool | None) -> Tenants:
    return MemoryTenants() if pool is None else PostgresTenants(pool)


def _idempotency(pool: asyncpg.Pool | None) -> IdempotencyStore:
    return MemoryIdempotencyStore() if pool is None else PostgresIdempotencyStore(pool)


def _keyring(settings: Settings, pool: asyncpg.Pool | None) -> Keyring:
    key = master_key(settings)
    return MemoryKeyring(key) if pool is None else PostgresKeyring(pool, key)


def _order_numbers(pool: asyncpg.Pool | None) -> OrderNumbers:
    return MemoryOrderNumbers() if pool is None else PostgresOrderNumbers(pool)


def _payment_gateway(settings: Settings) -> PaymentGateway:
    """Stripe when configured (PAYMENT_GATEWAY=stripe, or auto with STRIPE_SECRET_KEY set);
    otherwise the in-process fake gateway, which takes test tokens only (demo mode)."""
    choice = settings.payment_gateway
    if choice == "auto":
        choice = "stripe" if settings.stripe_secret_key else "fake"
    if choice == "fake":
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


def _order_queries(pool: asyncpg.Pool | None, read_models: ReadModelStore) -> OrderQueries:
    if pool is None:
        assert isinstance(read_models, MemoryReadModel)
        return MemoryOrderQueries(read_models)
    return PostgresOrderQueries(pool)


def _analytics_queries(pool: asyncpg.Pool | None, read_models: ReadModelStore) -> AnalyticsQueries:
    if pool is None:
        assert isinstance(read_models, MemoryReadModel)
        return MemoryAnalyticsQueries(read_models)
    return PostgresAnalyticsQueries(pool)


class Container(containers.DeclarativeContainer):
    """Adapters chosen by configuration. The app's lifespan opens the pool and provides it."""

    settings = providers.Dependency(instance_of=Settings)
    pool: providers.Dependency[asyncpg.Pool | None] = providers.Dependency(default=None)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    event_store = providers.Singleton(_event_store, settings, pool, clock)
    mapper = providers.Singleton(EventMapper)
    repository = providers.Singleton(
        Repository,
        store=event_store,
        mapper=mapper,
        snapshot_every=settings.provided.snapshot_every,
    )
    tenants = providers.Singleton(_tenants, pool)
    idempotency = providers.Singleton(_idempotency, pool)
    metrics = providers.Singleton(MetricsRegistry)
    keyring = providers.Singleton(_keyring, settings, pool)
    order_numbers = providers.Singleton(_order_numbers, pool)
    payment_gateway = providers.Singleton(_payment_gateway, settings)
    carrier = providers.Singleton(FakeCarrier)
    read_models = providers.Singleton(read_model_store, pool)
    order_queries = providers.Singleton(_order_queries, pool, read_models)
    analytics_queries = providers.Singleton(_analytics_queries, pool, read_models)
    gateway_configs = providers.Singleton(payment_providers.gateway_configs, settings, pool)
    reconciliation_reports = providers.Singleton(payment_providers.reconciliation_reports, pool)
    tenant_directory = providers.Singleton(payment_providers.tenant_directory, pool, tenants)
    gateway_resolver = providers.Singleton(
        payment_providers.gateway_resolver, settings, gateway_configs, payment_gateway
    )


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
