"""Integration events: the public, versioned facts other services and merchants follow.

They are derived from stored domain events (``integration_events_of``), never built by use
cases, and leave the service through the relay (``relay.Relay``) to a message broker.
"""

from commerce_core.integration.derive import integration_events_of
from commerce_core.integration.events import (
    EVENT_TYPES,
    IntegrationEvent,
    IntegrationEventType,
    decode_integration_event,
    encode_integration_event,
    integration_event_id,
)

__all__ = [
    "EVENT_TYPES",
    "IntegrationEvent",
    "IntegrationEventType",
    "decode_integration_event",
    "encode_integration_event",
    "integration_event_id",
    "integration_events_of",
]
