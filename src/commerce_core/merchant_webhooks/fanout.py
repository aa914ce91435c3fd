"""From events to deliveries: one per event and subscribed endpoint, recorded before
anything is sent (the delivery is the intent of an effect, ADR 0036)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from commerce_core.eventstore import EventStore, Position, RecordedEvent
from commerce_core.merchant_webhooks.deliveries import Delivery, DeliveryStatus
from commerce_core.merchant_webhooks.endpoints import EndpointStatus
from commerce_core.merchant_webhooks.events import WebhookEvent, subscribed
from commerce_core.merchant_webhooks.ports import WebhookDeliveries, WebhookEndpoints
from commerce_core.shared.ports.clock import Clock, Ids


class Body(msgspec.Struct, frozen=True, kw_only=True):
    """What a receiver gets: the integration event, as the NATS relay publishes it."""

    id: str
    type: str
    tenant: str
    occurred_at: str
    payload: dict[str, object]


def body_of(event: WebhookEvent) -> bytes:
    return msgspec.json.encode(
        Body(
            id=str(event.id),
            type=event.type,
            tenant=event.tenant,
            occurred_at=event.occurred_at.isoformat().replace("+00:00", "Z"),
            payload=event.payload,
        )
    )


@dataclass(frozen=True)
class FanOutDeps:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    clock: Clock
    ids: Ids


async def fan_out(events: Sequence[WebhookEvent], checkpoint: Position, deps: FanOutDeps) -> int:
    """Records the deliveries of ``events`` and moves the checkpoint past them; returns how
    many deliveries it made. An endpoint gets the events that occur after it was created."""
    endpoints, deliveries, ids = deps.endpoints, deps.deliveries, deps.ids
    now = deps.clock.now()
    made: list[Delivery] = []
    by_tenant: dict[str, list[WebhookEvent]] = {}
    for event in events:
        by_tenant.setdefault(event.tenant, []).append(event)
    for tenant, tenant_events in by_tenant.items():
        targets = [
            endpoint
            for endpoint in await endpoints.list(tenant)
            if endpoint.status is EndpointStatus.ENABLED
        ]
        for event in tenant_events:
            for endpoint in targets:
                if event.occurred_at < endpoint.created_at:
                    continue
                if not subscribed(endpoint.events, event.type):
                    continue
                made.append(
                    Delivery(
                        id=ids.new_id(),
                        tenant=tenant,
                        endpoint_id=endpoint.id,
                        event_id=event.id,
                        event_type=event.type,
                        body=body_of(event),
                        status=DeliveryStatus.PENDING,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    await deliveries.add(made, checkpoint)
    return len(made)


ToWebhookEvents = Callable[[RecordedEvent], list[WebhookEvent]]
"""The seam from the event log: ``order_events.webhook_events_of`` (the integration events)."""


async def fan_out_next(
    log: EventStore,
    to_webhook_events: ToWebhookEvents,
    deps: FanOutDeps,
    limit: int = 500,
) -> int:
    """Reads the next events after the checkpoint and records their deliveries; returns
    how many events it read (0: caught up). Reading an event twice (a crash between the
    two writes) makes no second delivery: one per (endpoint, event)."""
    read = await log.read_all(await deps.deliveries.checkpoint(), limit)
    if not read:
        return 0
    events = [event for recorded in read for event in to_webhook_events(recorded)]
    await fan_out(events, read[-1].position, deps)
    return len(read)
