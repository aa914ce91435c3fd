"""Customer metrics: what each customer bought, for their analytics, segments and cohorts.

Payments and refunds are recorded on the order and name only the order, and a
projection cannot look anything up, so a per-customer total cannot be kept by
adding each payment to the customer's row. This projection therefore keeps one
row per order in ``customer_orders`` (customer, currency, total, money received
and refunded, created_at: no personal data), and the queries add up one
customer's rows through the ``(tenant_id, customer_id, currency, created_at)``
index, or every customer's rows for the dashboard.

The rules, the same in every query adapter (``activity_of`` is the reference):

- An order *counts* once money was received for it (``paid > 0``), refunded
  or not: placed-but-unpaid, failed and cancelled-before-payment orders do not.
- ``total_spent`` (the lifetime value) is received minus refunded, lost
  disputes included, over counted orders.
- ``first_order_at`` / ``last_order_at`` are the earliest and latest
  ``created_at`` of counted orders; ``first_order_total`` is the order total of
  the earliest (ties: the smaller order id).
- Each currency is measured on its own (a row per order holds its currency);
  the queries take the currency to measure in, the segment rules' currency.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from commerce_core.eventstore import RecordedEvent
from commerce_core.ordering.order import Order
from commerce_core.projections.changes import Change, Increment, Upsert
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

Events: Any = Order  # the event classes are made by the @event decorator at run time

TABLE = "customer_orders"

CUSTOMER_ORDERS_TABLE = TableSpec(
    TABLE,
    key=("tenant_id", "order_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("order_id", "uuid"),
        Column("customer_id", "uuid"),
        Column("currency", "text"),
        Column("total", "int", default=0),
        Column("paid", "int", default=0),
        Column("refunded", "int", default=0),
        Column("created_at", "timestamptz"),
    ],
    indexes=[Index(("tenant_id", "customer_id", "currency", "created_at"))],
)


class CustomerMetricsProjection(Projection):
    """One ``customer_orders`` row per order, following its money."""

    name = "customer_metrics"
    version = 1
    tables = (CUSTOMER_ORDERS_TABLE,)
    _wanted = topics(
        Events.Placed, Events.PaymentRecorded, Events.RefundRecorded, Events.DisputeClosed
    )
    reads: frozenset[str] | None = frozenset(
        {"customer_id", "currency", "totals", "at", "amount", "charged_back"}
    )

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        key = {"tenant_id": event.metadata.tenant_id, "order_id": event.stream_id}
        if isinstance(decoded, Events.Placed):
            values = {
                "customer_id": decoded.customer_id,
                "currency": decoded.currency,
                "total": decoded.totals.total.amount,
                "created_at": decoded.at,
            }
            return [Upsert(TABLE, key, values)]
        if isinstance(decoded, Events.PaymentRecorded):
            return [Increment(TABLE, key, {"paid": decoded.amount.amount})]
        if isinstance(decoded, Events.RefundRecorded):
            return [Increment(TABLE, key, {"refunded": decoded.amount.amount})]
        if isinstance(decoded, Events.DisputeClosed) and decoded.charged_back.amount:
            return [Increment(TABLE, key, {"refunded": decoded.charged_back.amount})]
        return []


class CustomerMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """What one customer has bought in one currency, by the rules above."""

    customer_id: UUID
    currency: str
    total_orders: int = 0
    total_spent: int = 0
    first_order_at: datetime | None = None
    first_order_total: int | None = None
    last_order_at: datetime | None = None


class CustomerActivity(msgspec.Struct, frozen=True, kw_only=True):
    """A customer's metrics and the UTC months (``"2026-05"``) of their counted orders."""

    metrics: CustomerMetrics
    months: frozenset[str]


def month_of(at: datetime) -> str:
    """The UTC calendar month of an instant, e.g. ``"2026-05"``."""
    return at.astimezone(UTC).strftime("%Y-%m")


def activity_of(
    customer_id: UUID, currency: str, orders: Iterable[Mapping[str, Any]]
) -> CustomerActivity:
    """The reference implementation of the rules, over ``customer_orders`` rows."""
    counted = sorted(
        (
            row
            for row in orders
            if row["customer_id"] == customer_id
            and row["currency"] == currency
            and (row["paid"] or 0) > 0
        ),
        key=lambda row: (row["created_at"], row["order_id"]),
    )
    if not counted:
        return CustomerActivity(
            metrics=CustomerMetrics(customer_id=customer_id, currency=currency),
            months=frozenset(),
        )
    first, last = counted[0], counted[-1]
    metrics = CustomerMetrics(
        customer_id=customer_id,
        currency=currency,
        total_orders=len(counted),
        total_spent=sum((row["paid"] or 0) - (row["refunded"] or 0) for row in counted),
        first_order_at=first["created_at"],
        first_order_total=first["total"] or 0,
        last_order_at=last["created_at"],
    )
    return CustomerActivity(
        metrics=metrics, months=frozenset(month_of(row["created_at"]) for row in counted)
    )
