"""The payment list: one row per payment, for `GET /payments` (filters, newest first, pages).

The row holds what the list filters and orders by (status, order, created_at);
the amounts of a payment (captured, refunded, fees, net) follow from its whole
state (a refund's success names the refund, not its amount), so the query side
shows each listed payment as `GET /payments/{id}` does. Every event that moves a
payment's status carries the status it leads to or implies it by its type, so no
rule of the payment is repeated here.
"""

from __future__ import annotations

from typing import Any

from commerce_core.eventstore import RecordedEvent
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.projections.changes import Change, Upsert
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

Events: Any = Payment  # the event classes are made by the @event decorator at run time

TABLE = "payment_list"

PAYMENT_LIST_TABLE = TableSpec(
    TABLE,
    key=("tenant_id", "payment_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("payment_id", "uuid"),
        Column("order_id", "uuid"),
        Column("status", "text"),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
    ],
    indexes=[
        Index(("tenant_id", "created_at", "payment_id")),
        Index(("tenant_id", "status", "created_at", "payment_id")),
        Index(("tenant_id", "order_id")),
    ],
)

_STATUS_OF_EVENT: dict[Any, PaymentStatus] = {
    Events.Authorized: PaymentStatus.AUTHORIZED,
    Events.Failed: PaymentStatus.FAILED,
    Events.Voided: PaymentStatus.VOIDED,
    Events.Captured: PaymentStatus.CAPTURED,
    Events.DisputeOpened: PaymentStatus.DISPUTED,
}
"""Events whose type says the status they lead to (the others carry it: ``status``)."""


class PaymentList(Projection):
    """A payment's order, status and times, as its events record them."""

    name = "payment_list"
    version = 1
    tables = (PAYMENT_LIST_TABLE,)
    _wanted = topics(Events.Created, Events.RefundSucceeded, Events.DisputeWon, *_STATUS_OF_EVENT)

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        e: Any = decoded
        key = {"tenant_id": event.metadata.tenant_id, "payment_id": event.stream_id}
        at = getattr(e, "at", event.recorded_at)
        if isinstance(e, Events.Created):
            values = {
                "order_id": e.order_id,
                "status": PaymentStatus.PENDING.value,
                "created_at": at,
                "updated_at": at,
            }
            return [Upsert(TABLE, key, values)]
        status = _STATUS_OF_EVENT.get(type(e)) or getattr(e, "status", None)
        if status is None:
            return []
        return [Upsert(TABLE, key, {"status": str(status), "updated_at": at})]
