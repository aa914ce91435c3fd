"""The webhook inbox, the tenants of gateway payments, and the gateways' verifiers."""

from __future__ import annotations

import asyncpg

from adapters.memory.webhook_lookups import MemoryPaymentTenants
from adapters.memory.webhooks import MemoryWebhookInbox
from adapters.payments.stripe_webhooks import StripeWebhooks, webhook_secrets
from adapters.postgres.webhook_lookups import PostgresPaymentTenants
from adapters.postgres.webhooks import PostgresWebhookInbox
from commerce_core.payments.ports.webhooks import PaymentTenants, WebhookInbox
from entrypoints.settings import Settings


def webhook_inbox(pool: asyncpg.Pool | None) -> WebhookInbox:
    return MemoryWebhookInbox() if pool is None else PostgresWebhookInbox(pool)


def payment_tenants(pool: asyncpg.Pool | None) -> PaymentTenants:
    return MemoryPaymentTenants() if pool is None else PostgresPaymentTenants(pool)


def stripe_webhooks(settings: Settings) -> StripeWebhooks:
    """``STRIPE_WEBHOOK_SECRET`` may list several secrets, comma-separated, while one is
    rotated; without any, the platform's Stripe webhooks are refused as badly signed."""
    return StripeWebhooks(webhook_secrets(settings.stripe_webhook_secret))
