"""Merchant webhook stores (sealed secrets), the HTTP sender and the resolver."""

from __future__ import annotations

import asyncpg

from adapters.memory.merchant_webhooks import MemoryWebhookDeliveries, MemoryWebhookEndpoints
from adapters.merchant_webhooks.sender import HttpxWebhookSender, SystemResolver
from adapters.postgres.merchant_webhooks import PostgresWebhookDeliveries, PostgresWebhookEndpoints
from commerce_core.merchant_webhooks.ports import (
    HostResolver,
    WebhookDeliveries,
    WebhookEndpoints,
    WebhookSender,
)
from entrypoints.settings import Settings, master_key


def webhook_deliveries(pool: asyncpg.Pool | None) -> WebhookDeliveries:
    return MemoryWebhookDeliveries() if pool is None else PostgresWebhookDeliveries(pool)


def webhook_endpoints(
    settings: Settings, pool: asyncpg.Pool | None, deliveries: WebhookDeliveries
) -> WebhookEndpoints:
    key = master_key(settings)
    if isinstance(deliveries, MemoryWebhookDeliveries):
        return MemoryWebhookEndpoints(key, deliveries)
    assert pool is not None  # deliveries are in PostgreSQL only when there is a pool
    return PostgresWebhookEndpoints(pool, key)


def webhook_sender() -> WebhookSender:
    return HttpxWebhookSender()


def host_resolver() -> HostResolver:
    return SystemResolver()
