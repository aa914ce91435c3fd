"""The seam from domain events to webhook events: the integration events
(``commerce_core.integration``, ADR 0035) as a delivery needs them.

``webhook_events_of`` is the only function the worker calls; a merchant endpoint receives
exactly what the relay publishes to JetStream (same ids, types and payloads).
"""

from __future__ import annotations

import msgspec

from commerce_core.eventstore import RecordedEvent
from commerce_core.integration import integration_events_of
from commerce_core.merchant_webhooks.events import WebhookEvent


def webhook_events_of(recorded: RecordedEvent) -> list[WebhookEvent]:
    """The integration events of one stored domain event; ids, amounts and statuses only."""
    return [
        WebhookEvent(
            id=event.id,
            type=str(event.type),
            tenant=event.tenant,
            occurred_at=event.occurred_at,
            payload=msgspec.to_builtins(event.payload),
        )
        for event in integration_events_of(recorded)
    ]
