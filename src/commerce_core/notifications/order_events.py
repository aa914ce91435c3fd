"""The seam from the event log: the order events a customer is told about.

A small mapping of its own, so notifications do not wait for the integration event
schema (issue 16 item 1); ``notice_of`` is the only function the pipeline calls.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from commerce_core.eventstore import RecordedEvent
from commerce_core.notifications.notification import Kind
from commerce_core.ordering.order import Order

Events: Any = Order  # the event classes are made by the @event decorator at run time

_PLACED = get_topic(Events.Placed)
_PAYMENT = get_topic(Events.PaymentRecorded)
_FAILED = get_topic(Events.PaymentFailed)
_SHIPPED = get_topic(Events.ShipmentRecorded)
_STATUS = get_topic(Events.StatusChanged)
_REFUND = get_topic(Events.RefundRecorded)
_CANCELLED = get_topic(Events.Cancelled)
WANTED = frozenset({_PLACED, _PAYMENT, _FAILED, _SHIPPED, _STATUS, _REFUND, _CANCELLED})


class Notice(msgspec.Struct, frozen=True, kw_only=True):
    """An order event worth telling the customer about; ``facts`` go to the template."""

    event_id: UUID
    tenant: str
    order_id: UUID
    kind: Kind
    facts: dict[str, str]
    shipment_id: UUID | None = None


def _money(value: object) -> dict[str, str]:
    if isinstance(value, dict) and "amount" in value and "currency" in value:
        return {"amount": str(value["amount"]), "currency": str(value["currency"])}
    return {}


def _kind_and_facts(type_: str, data: dict[str, Any]) -> tuple[Kind, dict[str, str]] | None:
    if type_ == _PLACED:
        totals = data.get("totals") or {}
        total = _money(totals.get("total")) if isinstance(totals, dict) else {}
        return Kind.ORDER_CONFIRMATION, {f"total_{k}": v for k, v in total.items()}
    if type_ == _PAYMENT:
        if data.get("status") != "paid":  # a part payment settles nothing yet
            return None
        return Kind.PAYMENT_RECEIPT, _money(data.get("amount"))
    if type_ == _FAILED:
        return Kind.PAYMENT_FAILED, {"reason": str(data.get("reason") or "")}
    if type_ == _SHIPPED:
        return Kind.SHIPPED, {}
    if type_ == _STATUS:
        return (Kind.DELIVERED, {}) if data.get("status") == "delivered" else None
    if type_ == _REFUND:
        return Kind.REFUND_ISSUED, _money(data.get("amount"))
    if type_ == _CANCELLED:
        return Kind.ORDER_CANCELLED, {"reason": str(data.get("reason") or "")}
    return None


def notice_of(recorded: RecordedEvent) -> Notice | None:
    if recorded.type not in WANTED:
        return None
    data: dict[str, Any] = msgspec.json.decode(recorded.data)
    found = _kind_and_facts(recorded.type, data)
    if found is None:
        return None
    kind, facts = found
    shipment = data.get("shipment_id") if recorded.type == _SHIPPED else None
    return Notice(
        event_id=recorded.event_id,
        tenant=recorded.metadata.tenant_id,
        order_id=recorded.stream_id,
        kind=kind,
        facts=facts,
        shipment_id=UUID(shipment) if isinstance(shipment, str) else None,
    )
