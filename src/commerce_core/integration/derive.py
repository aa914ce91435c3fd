"""Which integration events a stored domain event gives: a pure function, like a projection.

Only the events in ``_DERIVERS`` give any; every other domain event gives none. The same
stored event always gives the same integration events (same ids), so deriving them again
after a restart re-sends exactly what may have been sent before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.utils import get_topic

from commerce_core.customers.customer import Customer
from commerce_core.eventstore import RecordedEvent
from commerce_core.eventstore.mapper import EventMapper
from commerce_core.fulfilment.shipment import Shipment, ShipmentStatus
from commerce_core.integration import events as e
from commerce_core.integration.events import (
    EVENT_TYPES,
    IntegrationEvent,
    IntegrationEventType,
    Payload,
    integration_event_id,
)
from commerce_core.ordering.order import DisputeOutcome, Order, OrderStatus
from commerce_core.payments.payment import Payment, PaymentStatus

# the event classes are made by the @event decorator at run time
Ord: Any = Order
P: Any = Payment
S: Any = Shipment
C: Any = Customer
T = IntegrationEventType

Derived = list[tuple[IntegrationEventType, Payload]]


def _order_placed(ev: Any, stream: Any) -> Derived:
    placed = e.OrderPlaced(
        order_id=stream,
        number=str(ev.number),
        customer_id=ev.customer_id,
        currency=ev.currency,
        total=ev.totals.total.amount,
        channel=str(ev.channel),
    )
    return [(T.ORDER_PLACED, placed)]


def _order_paid(ev: Any, stream: Any) -> Derived:
    if ev.status != OrderStatus.PAID:
        return []  # a part payment, or cash received for an order already on its way
    paid = e.OrderPaid(
        order_id=stream,
        payment_id=ev.payment_id,
        amount=ev.amount.amount,
        currency=ev.amount.currency,
    )
    return [(T.ORDER_PAID, paid)]


def _order_cancelled(ev: Any, stream: Any) -> Derived:
    return [(T.ORDER_CANCELLED, e.OrderCancelled(order_id=stream))]


def _order_shipment(ev: Any, stream: Any) -> Derived:
    kind = T.ORDER_SHIPPED if ev.status == OrderStatus.SHIPPED else T.ORDER_PARTIALLY_SHIPPED
    return [(kind, e.OrderShipped(order_id=stream, shipment_id=ev.shipment_id))]


def _order_status(ev: Any, stream: Any) -> Derived:
    if ev.status == OrderStatus.DELIVERED:
        return [(T.ORDER_DELIVERED, e.OrderDelivered(order_id=stream))]
    return []


def _order_refunded(ev: Any, stream: Any) -> Derived:
    refunded = e.OrderRefunded(
        order_id=stream,
        refund_id=ev.refund_id,
        amount=ev.amount.amount,
        currency=ev.amount.currency,
        status=OrderStatus(ev.status),
    )
    return [(T.ORDER_REFUNDED, refunded)]


def _payment_created(ev: Any, stream: Any) -> Derived:
    created = e.PaymentCreated(
        payment_id=stream,
        order_id=ev.order_id,
        amount=ev.amount.amount,
        currency=ev.amount.currency,
        gateway=ev.gateway,
    )
    return [(T.PAYMENT_CREATED, created)]


def _payment_captured(ev: Any, stream: Any) -> Derived:
    captured = e.PaymentCaptured(
        payment_id=stream, amount=ev.amount.amount, currency=ev.amount.currency
    )
    return [(T.PAYMENT_CAPTURED, captured)]


def _payment_refunded(ev: Any, stream: Any) -> Derived:
    refunded = e.PaymentRefunded(
        payment_id=stream, refund_id=ev.refund_id, status=PaymentStatus(ev.status)
    )
    return [(T.PAYMENT_REFUNDED, refunded)]


def _payment_failed(ev: Any, stream: Any) -> Derived:
    return [(T.PAYMENT_FAILED, e.PaymentFailed(payment_id=stream, decline_code=ev.decline_code))]


def _dispute_opened(ev: Any, stream: Any) -> Derived:
    opened = e.DisputeOpened(
        payment_id=stream,
        dispute_id=ev.dispute_id,
        amount=ev.amount.amount,
        currency=ev.amount.currency,
        reason=ev.reason,
    )
    return [(T.DISPUTE_OPENED, opened)]


def _dispute_closed(outcome: DisputeOutcome) -> Callable[[Any, Any], Derived]:
    def derive(ev: Any, stream: Any) -> Derived:
        return [(T.DISPUTE_CLOSED, e.DisputeClosed(payment_id=stream, outcome=outcome))]

    return derive


def _shipment_created(ev: Any, stream: Any) -> Derived:
    created = e.ShipmentCreated(
        shipment_id=stream,
        order_id=ev.order_id,
        carrier=ev.carrier,
        service=ev.service,
        tracking_number=ev.tracking_number,
    )
    return [(T.SHIPMENT_CREATED, created)]


def _shipment_tracked(ev: Any, stream: Any) -> Derived:
    status = ShipmentStatus(ev.status)
    return [
        (T.SHIPMENT_TRACKING_UPDATED, e.ShipmentTrackingUpdated(shipment_id=stream, status=status))
    ]


def _customer_erased(ev: Any, stream: Any) -> Derived:
    return [(T.CUSTOMER_ERASED, e.CustomerErased(customer_id=stream))]


_DERIVERS: dict[str, Callable[[Any, Any], Derived]] = {
    get_topic(Ord.Placed): _order_placed,
    get_topic(Ord.PaymentRecorded): _order_paid,
    get_topic(Ord.Cancelled): _order_cancelled,
    get_topic(Ord.ShipmentRecorded): _order_shipment,
    get_topic(Ord.StatusChanged): _order_status,
    get_topic(Ord.RefundRecorded): _order_refunded,
    get_topic(P.Created): _payment_created,
    get_topic(P.Captured): _payment_captured,
    get_topic(P.RefundSucceeded): _payment_refunded,
    get_topic(P.Failed): _payment_failed,
    get_topic(P.DisputeOpened): _dispute_opened,
    get_topic(P.DisputeWon): _dispute_closed(DisputeOutcome.WON),
    get_topic(P.DisputeLost): _dispute_closed(DisputeOutcome.LOST),
    get_topic(S.Created): _shipment_created,
    get_topic(S.Tracked): _shipment_tracked,
    get_topic(C.Erased): _customer_erased,
}

_mapper = EventMapper()


def gives_integration_events(event_type: str) -> bool:
    """Whether a stored event of this type may give any (cheap: no decoding)."""
    return event_type in _DERIVERS


def integration_events_of(
    event: RecordedEvent, decoded: object | None = None
) -> list[IntegrationEvent]:
    """The integration events a stored domain event gives (often none).

    ``decoded`` is the domain event if the caller already has it; otherwise it is decoded
    here, and only for the types that give integration events.
    """
    derive = _DERIVERS.get(event.type)
    if derive is None:
        return []
    domain_event: Any = decoded if decoded is not None else _mapper.from_recorded(event)
    occurred_at = getattr(domain_event, "at", None) or event.recorded_at
    return [
        IntegrationEvent(
            id=integration_event_id(event.event_id, kind),
            type=kind,
            version=EVENT_TYPES[kind].version,
            tenant=event.metadata.tenant_id,
            occurred_at=occurred_at,
            partition=event.stream_id,
            source_event_id=event.event_id,
            payload=payload,
        )
        for kind, payload in derive(domain_event, event.stream_id)
    ]
