"""The webhook parts of a process: inbox, verifiers and processing, shared by the HTTP
endpoint and the worker (so that a stored event wakes the worker in-process)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from uuid import UUID

import structlog

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.tracking import TrackingWebhooks
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.ports.webhooks import StoredWebhook, WebhookInbox, WebhookVerifier
from commerce_core.payments.webhooks.processing import (
    ProcessedWebhook,
    WebhookServices,
    process_webhook,
)
from commerce_core.processes.pos_sync import POS_WEBHOOK_PREFIX, process_pos_webhook
from commerce_core.processes.tracking import TrackingServices, process_tracking_webhook
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.tenancy.fee_terms import tenant_fee_schedule
from commerce_core.tenancy.ports.tenants import TenantSettings
from entrypoints.channel_sync import ChannelSync, channel_sync
from entrypoints.container import Container
from entrypoints.http.metrics import MetricsRegistry

TenantSecret = Callable[[UUID, str], Awaitable[str | None]]
"""The webhook secret of a tenant's own account at a gateway, or None (it has none)."""


@dataclass(frozen=True)
class CarrierTracking:
    """Carriers' tracking webhooks: ``hooks`` by inbox name (``carrier:<name>``),
    ``platform_secrets`` the platform's own by carrier, ``tenant_secret`` a tenant's."""

    services: TrackingServices
    hooks: Mapping[str, TrackingWebhooks]
    platform_secrets: Mapping[str, str]
    tenant_secret: TenantSecret

    def by_carrier(self, carrier: str) -> TrackingWebhooks | None:
        return self.hooks.get(f"carrier:{carrier}")


@dataclass(frozen=True)
class Webhooks:
    """``verifiers`` by gateway name (the ``{gateway}`` of ``POST /webhooks/{gateway}``);
    ``tenant_secret`` finds the secret of a tenant's own account (None: no tenant has one)."""

    inbox: WebhookInbox
    verifiers: Mapping[str, WebhookVerifier]
    processing: WebhookServices
    clock: Clock
    ids: Ids
    tenant_secret: TenantSecret | None = None
    metrics: MetricsRegistry | None = None
    tracking: CarrierTracking | None = None
    pos: ChannelSync | None = None

    async def process(
        self, event: StoredWebhook, repo: Repository | None = None
    ) -> ProcessedWebhook:
        """A stored event processed by its kind: a carrier's tracking, a POS's (a pull of
        its connection, ADR 0037), or a payment's (through ``repo`` when given: a view
        of its batch's reads, ADR 0049)."""
        if self.pos is not None and event.gateway.startswith(POS_WEBHOOK_PREFIX):
            return await process_pos_webhook(self.pos.services, self.pos.pos_for, event)
        if self.tracking is not None and event.gateway in self.tracking.hooks:
            tracking = self.tracking
            return await process_tracking_webhook(tracking.services, tracking.hooks, event)
        services = self.processing if repo is None else replace(self.processing, repo=repo)
        return await process_webhook(services, event)

    def count_delivery(self, gateway: str, result: str) -> None:
        """A webhook request: ``stored``, ``duplicate`` or ``invalid_signature``."""
        if self.metrics is not None:
            self.metrics.counter(
                "webhook_deliveries_total",
                "Webhook requests by gateway and result",
                ("gateway", "result"),
            ).labels(gateway=gateway, result=result).inc()

    def count_outcome(self, gateway: str, outcome: str) -> None:
        """A processing attempt: ``processed``, ``failed`` or ``dead``."""
        if self.metrics is not None:
            self.metrics.counter(
                "webhook_attempts_total",
                "Webhook processing attempts by gateway and outcome",
                ("gateway", "outcome"),
            ).labels(gateway=gateway, outcome=outcome).inc()


def build_webhooks(container: Container, *, tenant_secret: TenantSecret | None = None) -> Webhooks:
    """The container's inbox and verifiers, and processing on its ports.

    ``tenant_secret`` (e.g. the container's ``gateway_resolver().webhook_secret``) enables
    the endpoints of tenants' own accounts, ``POST /webhooks/{gateway}/{tenant_id}``.
    """
    stripe = container.stripe_webhooks()
    if not container.settings().stripe_webhook_secret:
        structlog.get_logger("webhooks").warning(
            "STRIPE_WEBHOOK_SECRET is not set: Stripe webhooks will be refused"
        )
    inbox = container.webhook_inbox()
    processing = WebhookServices(
        repo=container.repository(),
        clock=container.clock(),
        payment_tenants=container.payment_tenants(),
        translators={stripe.gateway: stripe},
    )
    metrics = container.metrics()
    _export_counts(metrics, inbox)
    tracking = build_tracking(container)
    return Webhooks(
        metrics=metrics,
        inbox=inbox,
        verifiers={stripe.gateway: stripe},
        processing=processing,
        clock=container.clock(),
        ids=container.ids(),
        tenant_secret=tenant_secret,
        tracking=tracking,
        pos=channel_sync(container),
    )


def tracking_services(container: Container) -> TrackingServices:
    """The ports tracking scans are recorded with (webhooks and the poller)."""
    tenants = container.tenants()

    async def fees(tenant_id: str) -> FeeSchedule:
        tenant = await tenants.get_tenant(UUID(tenant_id))
        return tenant_fee_schedule(tenant.settings if tenant else TenantSettings())

    return TrackingServices(
        repo=container.repository(),
        clock=container.clock(),
        parcels=container.tracked_parcels(),
        carriers=container.carriers(),
        fees=fees,
    )


def build_tracking(container: Container) -> CarrierTracking:
    """ShipEngine's and UPS Track Alert's webhooks; a tenant's secret is the
    ``webhook_secret`` of its enabled carrier connection (``PUT /admin/carriers``)."""
    settings = container.settings()
    connections = container.carrier_connections()
    hooks = container.tracking_webhooks()

    async def tenant_secret(tenant_id: UUID, carrier: str) -> str | None:
        connection = await connections.get(tenant_id, carrier)
        if connection is None or not connection.enabled:
            return None
        return connection.secrets.values.get("webhook_secret")

    platform = {
        "shipengine": settings.shipengine_webhook_secret,
        "ups": settings.ups_webhook_credential,
    }
    return CarrierTracking(
        services=tracking_services(container),
        hooks={hook.gateway: hook for hook in hooks},
        platform_secrets={name: secret for name, secret in platform.items() if secret},
        tenant_secret=tenant_secret,
    )


def _export_counts(metrics: MetricsRegistry, inbox: WebhookInbox) -> None:
    """``webhook_events_waiting{status}`` (received, failed, dead), read at each scrape."""
    gauge = metrics.gauge(
        "webhook_events_waiting", "Webhook events not processed, by status", ("status",)
    )

    async def collect() -> None:
        counts = await inbox.counts()
        for status in ("received", "failed", "dead"):
            gauge.labels(status=status).set(getattr(counts, status))

    metrics.on_collect(collect)
