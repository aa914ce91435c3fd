"""Example projections, written the way real ones (the order list) will be.

``Cart`` is a tiny aggregate of our own so that these tests depend on no domain
code. ``CartList`` is the shape of a list read model: one row per aggregate,
created by its first event and updated by the others, decoded domain events in,
``Upsert``/``Increment``/``Delete`` out. ``EventCounts`` counts events per stream
type and tenant from the event type alone, so it asks for no decoding.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate, event

from commerce_core.eventstore import RecordedEvent
from commerce_core.projections import (
    Change,
    Column,
    Delete,
    Increment,
    Index,
    Projection,
    SetMax,
    SetMin,
    TableSpec,
    Upsert,
    stream_type,
    topics,
)


class Cart(Aggregate):
    customer: str
    items: int
    status: str

    @event("Opened")
    def __init__(self, customer: str, at: datetime) -> None:
        self.customer = customer
        self.items = 0
        self.status = "open"

    def add_item(self, sku: str, quantity: int, price: int) -> None:
        self._item_added(sku, quantity, price)

    @event("ItemAdded")
    def _item_added(self, sku: str, quantity: int, price: int) -> None:
        self.items += quantity

    def check_out(self, at: datetime) -> None:
        self._checked_out(at)

    @event("CheckedOut")
    def _checked_out(self, at: datetime) -> None:
        self.status = "checked_out"

    def discard(self) -> None:
        self._discarded()

    @event("Discarded")
    def _discarded(self) -> None:
        self.status = "discarded"


C: Any = Cart  # the event classes are made by the @event decorator at run time


class CartList(Projection):
    """One row per cart: who, status, item count and total, when opened and checked out."""

    name = "cart_list"
    version = 1
    tables = (
        TableSpec(
            "cart_list",
            key=("tenant_id", "cart_id"),
            columns=[
                Column("tenant_id", "text"),
                Column("cart_id", "uuid"),
                Column("customer", "text"),
                Column("status", "text"),
                Column("items", "int", default=0),
                Column("total", "int", default=0),
                Column("last_item", "jsonb"),
                Column("opened_at", "timestamptz"),
                Column("checked_out_at", "timestamptz"),
            ],
            indexes=[Index(("tenant_id", "status")), Index(("tenant_id", "opened_at"))],
        ),
    )
    _wanted = topics(C.Opened, C.ItemAdded, C.CheckedOut, C.Discarded)

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        key = {"tenant_id": event.metadata.tenant_id, "cart_id": event.stream_id}
        match decoded:
            case C.Opened(customer=customer, at=at):
                values = {"customer": customer, "status": "open", "opened_at": at}
                return [Upsert("cart_list", key, values)]
            case C.ItemAdded(sku=sku, quantity=quantity, price=price):
                return [
                    Increment("cart_list", key, {"items": quantity, "total": quantity * price}),
                    Upsert("cart_list", key, {"last_item": {"sku": sku, "quantity": quantity}}),
                ]
            case C.CheckedOut(at=at):
                values = {"status": "checked_out", "checked_out_at": at}
                return [Upsert("cart_list", key, values)]
            case C.Discarded():
                return [Delete("cart_list", key)]
        return []


class EventCounts(Projection):
    """Events per stream type and tenant, with the first and last time one was recorded."""

    name = "event_counts"
    version = 1
    decodes = False
    tables = (
        TableSpec(
            "event_counts",
            key=("tenant_id", "stream_type"),
            columns=[
                Column("tenant_id", "text"),
                Column("stream_type", "text"),
                Column("events", "int", default=0),
                Column("first_at", "timestamptz"),
                Column("last_at", "timestamptz"),
            ],
        ),
    )

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        key = {"tenant_id": event.metadata.tenant_id, "stream_type": stream_type(event.type)}
        return [
            Increment("event_counts", key, {"events": 1}),
            SetMin("event_counts", key, "first_at", event.recorded_at),
            SetMax("event_counts", key, "last_at", event.recorded_at),
        ]
