"""The stores: PostgreSQL ones on the pool, memory ones without it (``EVENT_STORE=memory``)."""

from __future__ import annotations

from functools import partial

import asyncpg

from adapters.memory.analytics_queries import MemoryAnalyticsQueries
from adapters.memory.clock import SystemClock
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.memory.keyring import MemoryKeyring
from adapters.memory.list_queries import MemoryListQueries
from adapters.memory.order_numbers import MemoryOrderNumbers
from adapters.memory.order_queries import MemoryOrderQueries
from adapters.memory.readmodel import MemoryReadModel
from adapters.memory.tenant_directory import MemoryTenantDirectory
from adapters.memory.tenants import MemoryTenants
from adapters.postgres.analytics_queries import PostgresAnalyticsQueries
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.idempotency import PostgresIdempotencyStore
from adapters.postgres.keyring import PostgresKeyring
from adapters.postgres.list_queries import PostgresListQueries
from adapters.postgres.order_numbers import PostgresOrderNumbers
from adapters.postgres.order_queries import PostgresOrderQueries
from adapters.postgres.plain_tags import PlainTagSealer
from adapters.postgres.readmodel import PostgresReadModel
from adapters.postgres.tenant_directory import PostgresTenantDirectory
from adapters.postgres.tenants import PostgresTenants
from commerce_core.customers.tags import seal_tag
from commerce_core.ordering.ports.order_numbers import OrderNumbers
from commerce_core.ordering.ports.order_queries import OrderQueries
from commerce_core.projections.ports.analytics import AnalyticsQueries
from commerce_core.projections.ports.lists import ListQueries
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.shared.ports.idempotency import IdempotencyStore
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.tenancy.ports.tenant_directory import TenantDirectory
from commerce_core.tenancy.ports.tenants import Tenants
from entrypoints.settings import Settings, master_key


def event_store(
    settings: Settings, pool: asyncpg.Pool | None, clock: SystemClock
) -> PostgresEventStore | MemoryEventStore:
    if pool is None:
        return MemoryEventStore(clock=clock.now)
    return PostgresEventStore(pool, clock=clock.now, poll_interval=settings.poll_interval)


def tenants(pool: asyncpg.Pool | None) -> Tenants:
    return MemoryTenants() if pool is None else PostgresTenants(pool)


def tenant_directory(pool: asyncpg.Pool | None, tenants: Tenants) -> TenantDirectory:
    if pool is None:
        assert isinstance(tenants, MemoryTenants)
        return MemoryTenantDirectory(tenants)
    return PostgresTenantDirectory(pool)


def idempotency(pool: asyncpg.Pool | None) -> IdempotencyStore:
    return MemoryIdempotencyStore() if pool is None else PostgresIdempotencyStore(pool)


def keyring(settings: Settings, pool: asyncpg.Pool | None) -> Keyring:
    key = master_key(settings)
    return MemoryKeyring(key) if pool is None else PostgresKeyring(pool, key)


def plain_tag_sealer(pool: asyncpg.Pool | None, keyring: Keyring) -> PlainTagSealer | None:
    """Seals tags stored in plain text before ADR 0021 (PostgreSQL only: memory holds none)."""
    return None if pool is None else PlainTagSealer(pool, partial(seal_tag, keyring))


def order_numbers(pool: asyncpg.Pool | None) -> OrderNumbers:
    return MemoryOrderNumbers() if pool is None else PostgresOrderNumbers(pool)


def read_models(pool: asyncpg.Pool | None) -> ReadModelStore:
    return MemoryReadModel() if pool is None else PostgresReadModel(pool)


def order_queries(pool: asyncpg.Pool | None, read_models: ReadModelStore) -> OrderQueries:
    if pool is None:
        assert isinstance(read_models, MemoryReadModel)
        return MemoryOrderQueries(read_models)
    return PostgresOrderQueries(pool)


def analytics_queries(pool: asyncpg.Pool | None, read_models: ReadModelStore) -> AnalyticsQueries:
    if pool is None:
        assert isinstance(read_models, MemoryReadModel)
        return MemoryAnalyticsQueries(read_models)
    return PostgresAnalyticsQueries(pool)


def list_queries(pool: asyncpg.Pool | None, read_models: ReadModelStore) -> ListQueries:
    if pool is None:
        assert isinstance(read_models, MemoryReadModel)
        return MemoryListQueries(read_models)
    return PostgresListQueries(pool)
