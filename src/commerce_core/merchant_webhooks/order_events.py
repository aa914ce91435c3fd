"""The seam from domain events to webhook events: a minimal mapping of three order events.

Issue 16's integration event schema (``commerce_core.integration``) replaces this module
when it lands: ``webhook_events_of`` is the only function the worker calls.
"""

from __future__ import annotations

from typing import Any

import msgspec
from eventsourcing.utils import get_topic

from commerce_core.eventstore import RecordedEvent
from commerce_core.merchant_webhooks.events import WebhookEvent
from commerce_core.ordering.order import Order

Events: Any = Order  # the event classes are made by the @event decorator at run time

_PLACED = get_topic(Events.Placed)
_PAYMENT = get_topic(Events.PaymentRecorded)
_REFUND = get_topic(Events.RefundRecorded)
WANTED = frozenset({_PLACED, _PAYMENT, _REFUND})


def webhook_events_of(recorded: RecordedEvent) -> list[WebhookEvent]:
    """``order.placed``, ``order.paid`` (the payment that settles the order) and
    ``order.refunded``; ids only, no personal data."""
    if recorded.type not in WANTED:
        return []
    data: dict[str, Any] = msgspec.json.decode(recorded.data)
    payload: dict[str, object] = {"order_id": str(recorded.stream_id)}
    if recorded.type == _PLACED:
        kind = "order.placed"
        totals = data.get("totals") or {}
        payload.update(
            number=data.get("number"),
            currency=data.get("currency"),
            total=totals.get("total") if isinstance(totals, dict) else None,
        )
    elif recorded.type == _PAYMENT:
        if data.get("status") != "paid":
            return []
        kind = "order.paid"
        payload.update(payment_id=data.get("payment_id"), amount=data.get("amount"))
    else:
        kind = "order.refunded"
        payload.update(refund_id=data.get("refund_id"), amount=data.get("amount"))
    return [
        WebhookEvent(
            id=recorded.event_id,
            type=kind,
            tenant=recorded.metadata.tenant_id,
            occurred_at=recorded.recorded_at,
            payload=payload,
        )
    ]
