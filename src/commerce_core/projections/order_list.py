"""The order list: one row per order, for `GET /orders` (filters, newest first, cursor pages)."""

from __future__ import annotations

from typing import Any

from commerce_core.eventstore import RecordedEvent
from commerce_core.ordering.order import Order
from commerce_core.projections.changes import Change, Increment, Upsert
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

Events: Any = Order  # the event classes are made by the @event decorator at run time

TABLE = "order_list"

ORDER_LIST_TABLE = TableSpec(
    TABLE,
    key=("tenant_id", "order_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("order_id", "uuid"),
        Column("number", "text"),
        Column("status", "text"),
        Column("customer_id", "uuid"),
        Column("currency", "text"),
        Column("total", "int", default=0),
        Column("paid", "int", default=0),
        Column("refunded", "int", default=0),
        Column("channel", "text"),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
    ],
    indexes=[
        Index(("tenant_id", "created_at", "order_id")),
        Index(("tenant_id", "status", "created_at", "order_id")),
        Index(("tenant_id", "customer_id", "created_at", "order_id")),
        Index(("tenant_id", "number")),
    ],
)


class OrderList(Projection):
    """Every order event carries the order's resulting status, so no rules are repeated here."""

    name = "order_list"
    version = 1
    tables = (ORDER_LIST_TABLE,)
    reads: frozenset[str] | None = frozenset(
        {"number", "customer_id", "currency", "totals", "channel", "at", "status", "amount"}
        | {"charged_back"}
    )
    _wanted = topics(
        Events.Placed,
        Events.PaymentRecorded,
        Events.PaymentFailed,
        Events.StatusChanged,
        Events.Cancelled,
        Events.RefundRecorded,
        Events.DisputeOpened,
        Events.DisputeClosed,
        Events.ShipmentRecorded,
    )

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        key = {"tenant_id": event.metadata.tenant_id, "order_id": event.stream_id}
        if isinstance(decoded, Events.Placed):
            return [Upsert(TABLE, key, _placed(decoded))]
        status: Any = getattr(decoded, "status", None)
        at = getattr(decoded, "at", event.recorded_at)
        changes: list[Change] = []
        if isinstance(decoded, Events.PaymentRecorded):
            changes.append(Increment(TABLE, key, {"paid": decoded.amount.amount}))
        elif isinstance(decoded, Events.RefundRecorded):
            changes.append(Increment(TABLE, key, {"refunded": decoded.amount.amount}))
        elif isinstance(decoded, Events.DisputeClosed) and decoded.charged_back.amount:
            changes.append(Increment(TABLE, key, {"refunded": decoded.charged_back.amount}))
        if status is not None:
            changes.append(Upsert(TABLE, key, {"status": str(status), "updated_at": at}))
        return changes


def _placed(placed: Any) -> dict[str, Any]:
    return {
        "number": str(placed.number),
        "status": "pending_payment",
        "customer_id": placed.customer_id,
        "currency": placed.currency,
        "total": placed.totals.total.amount,
        "channel": str(placed.channel),
        "created_at": placed.at,
        "updated_at": placed.at,
    }
