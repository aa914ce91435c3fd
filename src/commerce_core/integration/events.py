"""The integration event envelope and the payload of each type (the public schema).

Changing a payload in a way a consumer could notice (a field removed, renamed or retyped)
means a new ``version`` of that type; adding an optional field does not, nor does a new
status value (consumers ignore values they do not know). Payloads carry
ids, amounts and statuses only: no names, addresses, emails, phones or free text. Those who
may see a customer fetch it through the API by ``customer_id``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID, uuid5

import msgspec

from commerce_core.fulfilment.shipment import ShipmentStatus
from commerce_core.ordering.order import DisputeOutcome, OrderStatus
from commerce_core.payments.payment import PaymentStatus


class IntegrationEventType(StrEnum):
    ORDER_PLACED = "order.placed"
    ORDER_PAID = "order.paid"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_PARTIALLY_SHIPPED = "order.partially_shipped"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_REFUNDED = "order.refunded"
    PAYMENT_CREATED = "payment.created"
    PAYMENT_CAPTURED = "payment.captured"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_FAILED = "payment.failed"
    DISPUTE_OPENED = "dispute.opened"
    DISPUTE_CLOSED = "dispute.closed"
    SHIPMENT_CREATED = "shipment.created"
    SHIPMENT_TRACKING_UPDATED = "shipment.tracking_updated"
    CUSTOMER_ERASED = "customer.erased"


class OrderPlaced(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    number: str
    customer_id: UUID
    currency: str
    total: int
    channel: str


class OrderPaid(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    payment_id: UUID
    amount: int
    currency: str


class OrderCancelled(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID


class OrderShipped(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    shipment_id: UUID


class OrderDelivered(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID


class OrderRefunded(msgspec.Struct, frozen=True, kw_only=True):
    order_id: UUID
    refund_id: UUID | None
    amount: int
    currency: str
    status: OrderStatus


class PaymentCreated(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    order_id: UUID
    amount: int
    currency: str
    gateway: str


class PaymentCaptured(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    amount: int
    currency: str


class PaymentRefunded(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    refund_id: UUID
    status: PaymentStatus


class PaymentFailed(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    decline_code: str | None


class DisputeOpened(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    dispute_id: str
    amount: int
    currency: str
    reason: str


class DisputeClosed(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    outcome: DisputeOutcome


class ShipmentCreated(msgspec.Struct, frozen=True, kw_only=True):
    shipment_id: UUID
    order_id: UUID
    carrier: str
    service: str | None
    tracking_number: str | None


class ShipmentTrackingUpdated(msgspec.Struct, frozen=True, kw_only=True):
    shipment_id: UUID
    status: ShipmentStatus


class CustomerErased(msgspec.Struct, frozen=True, kw_only=True):
    customer_id: UUID


Payload = (
    OrderPlaced
    | OrderPaid
    | OrderCancelled
    | OrderShipped
    | OrderDelivered
    | OrderRefunded
    | PaymentCreated
    | PaymentCaptured
    | PaymentRefunded
    | PaymentFailed
    | DisputeOpened
    | DisputeClosed
    | ShipmentCreated
    | ShipmentTrackingUpdated
    | CustomerErased
)


class EventTypeSpec(NamedTuple):
    """What a type means, its current version and its payload's struct."""

    version: int
    payload: type[msgspec.Struct]
    meaning: str


T = IntegrationEventType

EVENT_TYPES: dict[IntegrationEventType, EventTypeSpec] = {
    T.ORDER_PLACED: EventTypeSpec(1, OrderPlaced, "An order was placed (total in minor units)."),
    T.ORDER_PAID: EventTypeSpec(1, OrderPaid, "An order received its whole total."),
    T.ORDER_CANCELLED: EventTypeSpec(1, OrderCancelled, "An order was cancelled."),
    T.ORDER_PARTIALLY_SHIPPED: EventTypeSpec(
        1, OrderShipped, "Some of an order's lines left in a shipment."
    ),
    T.ORDER_SHIPPED: EventTypeSpec(1, OrderShipped, "The last of an order's lines left."),
    T.ORDER_DELIVERED: EventTypeSpec(1, OrderDelivered, "All of an order's shipments arrived."),
    T.ORDER_REFUNDED: EventTypeSpec(
        1, OrderRefunded, "Money was given back on an order; `status` is the order's status."
    ),
    T.PAYMENT_CREATED: EventTypeSpec(1, PaymentCreated, "A payment was opened for an order."),
    T.PAYMENT_CAPTURED: EventTypeSpec(1, PaymentCaptured, "Money was captured on a payment."),
    T.PAYMENT_REFUNDED: EventTypeSpec(
        1, PaymentRefunded, "A refund succeeded at the gateway; `status` is the payment's."
    ),
    T.PAYMENT_FAILED: EventTypeSpec(1, PaymentFailed, "A payment was declined or failed."),
    T.DISPUTE_OPENED: EventTypeSpec(1, DisputeOpened, "A customer disputed a payment."),
    T.DISPUTE_CLOSED: EventTypeSpec(1, DisputeClosed, "A dispute was won or lost."),
    T.SHIPMENT_CREATED: EventTypeSpec(1, ShipmentCreated, "A shipment was recorded."),
    T.SHIPMENT_TRACKING_UPDATED: EventTypeSpec(
        1, ShipmentTrackingUpdated, "A carrier reported a shipment's new status."
    ),
    T.CUSTOMER_ERASED: EventTypeSpec(
        1, CustomerErased, "A customer's personal data was erased: forget what you keep of it."
    ),
}

_NAMESPACE = UUID("5b0c7d6e-4f1a-5a63-9d0e-3c8f4a1e2b70")


def integration_event_id(domain_event_id: UUID, type: IntegrationEventType) -> UUID:
    """The same domain event and type always give the same id, so a re-derived event (after a
    relay restart) is recognised as the one already sent (the broker's deduplication key)."""
    return uuid5(_NAMESPACE, f"{domain_event_id}:{type.value}")


class IntegrationEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One integration event, as published (JSON).

    ``partition`` is the id of the aggregate the event came from: events of one partition
    are published in the order they happened. ``source_event_id`` is the domain event's id.
    """

    id: UUID
    type: IntegrationEventType
    version: int
    tenant: str
    occurred_at: datetime
    partition: UUID
    source_event_id: UUID
    payload: Payload


class _Envelope(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    type: IntegrationEventType
    version: int
    tenant: str
    occurred_at: datetime
    partition: UUID
    source_event_id: UUID
    payload: msgspec.Raw


_encoder = msgspec.json.Encoder()
_envelope = msgspec.json.Decoder(_Envelope)


def encode_integration_event(event: IntegrationEvent) -> bytes:
    return _encoder.encode(event)


def decode_integration_event(data: bytes) -> IntegrationEvent:
    """Reads an event as published; raises ``msgspec.ValidationError`` if it is not one."""
    envelope = _envelope.decode(data)
    payload = msgspec.json.decode(envelope.payload, type=EVENT_TYPES[envelope.type].payload)
    fields = msgspec.structs.asdict(envelope)
    fields["payload"] = payload
    return IntegrationEvent(**fields)
