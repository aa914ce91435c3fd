"""Order analytics: daily order and money counters, payment outcomes, orders by status.

Days are UTC dates (``"2026-05-01"``) of the event's business time (``at``),
never of when it was recorded.

- ``order_daily`` (tenant, currency, day): orders placed and their value,
  money received (``payments``) and given back (``refunds``: refunds and lost
  disputes), each counted on the day the money moved, and orders that became
  fully paid that day. Revenue is ``payments - refunds``, derived when read.
- ``payment_daily`` (tenant, day): payment attempts the gateway authorized
  (``successes``: ``Authorized``, which a charge records too) or declined
  (``failures``: ``Failed``). No currency: a failed attempt records no amount.
- ``order_statuses`` (tenant, order): each order's current status, channel,
  currency and created_at. Order events carry only the new status and a
  projection cannot read the old one, so counts per status cannot be kept by
  moving one from the old status to the new; queries count these rows instead
  (orders placed in a date range, grouped by status or channel).

Monthly cohorts come from ``customer_metrics`` (a cohort needs the customer of
each paid order, which only that projection's rows hold).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from commerce_core.eventstore import RecordedEvent
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.payments.payment import Payment
from commerce_core.projections.changes import Change, Increment, Upsert
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

OrderEvents: Any = Order  # the event classes are made by the @event decorator at run time
PaymentEvents: Any = Payment

ORDER_DAILY = "order_daily"
PAYMENT_DAILY = "payment_daily"
ORDER_STATUSES = "order_statuses"

ORDER_DAILY_TABLE = TableSpec(
    ORDER_DAILY,
    key=("tenant_id", "currency", "day"),
    columns=[
        Column("tenant_id", "text"),
        Column("currency", "text"),
        Column("day", "text"),
        Column("orders", "int", default=0),
        Column("placed_value", "int", default=0),
        Column("payments", "int", default=0),
        Column("refunds", "int", default=0),
        Column("paid_orders", "int", default=0),
    ],
)

PAYMENT_DAILY_TABLE = TableSpec(
    PAYMENT_DAILY,
    key=("tenant_id", "day"),
    columns=[
        Column("tenant_id", "text"),
        Column("day", "text"),
        Column("successes", "int", default=0),
        Column("failures", "int", default=0),
    ],
)

ORDER_STATUSES_TABLE = TableSpec(
    ORDER_STATUSES,
    key=("tenant_id", "order_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("order_id", "uuid"),
        Column("currency", "text"),
        Column("channel", "text"),
        Column("status", "text"),
        Column("created_at", "timestamptz"),
    ],
    indexes=[Index(("tenant_id", "currency", "created_at"))],
)


def day_of(at: datetime) -> str:
    """The UTC date of an instant, e.g. ``"2026-05-01"``."""
    return at.astimezone(UTC).date().isoformat()


class OrderAnalytics(Projection):
    """Feeds the orders dashboard (``AnalyticsQueries.orders_dashboard``)."""

    name = "order_analytics"
    version = 1
    tables = (ORDER_DAILY_TABLE, PAYMENT_DAILY_TABLE, ORDER_STATUSES_TABLE)
    _order_events = topics(
        OrderEvents.Placed,
        OrderEvents.PaymentRecorded,
        OrderEvents.PaymentFailed,
        OrderEvents.StatusChanged,
        OrderEvents.Cancelled,
        OrderEvents.RefundRecorded,
        OrderEvents.DisputeOpened,
        OrderEvents.DisputeClosed,
        OrderEvents.ShipmentRecorded,
    )
    _wanted = _order_events | topics(PaymentEvents.Authorized, PaymentEvents.Failed)
    reads: frozenset[str] | None = frozenset(
        {"at", "currency", "channel", "totals", "status", "amount", "charged_back"}
    )

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        tenant = event.metadata.tenant_id
        if isinstance(decoded, PaymentEvents.Authorized | PaymentEvents.Failed):
            column = "successes" if isinstance(decoded, PaymentEvents.Authorized) else "failures"
            key = {"tenant_id": tenant, "day": day_of(decoded.at)}
            return [Increment(PAYMENT_DAILY, key, {column: 1})]
        order_key = {"tenant_id": tenant, "order_id": event.stream_id}
        if isinstance(decoded, OrderEvents.Placed):
            return _placed(tenant, order_key, decoded)
        changes = _money(tenant, decoded)
        status = getattr(decoded, "status", None)
        if status is not None:
            changes.append(Upsert(ORDER_STATUSES, order_key, {"status": str(status)}))
        return changes


def _placed(tenant: str, order_key: dict[str, Any], placed: Any) -> list[Change]:
    day = {"tenant_id": tenant, "currency": placed.currency, "day": day_of(placed.at)}
    values = {
        "currency": placed.currency,
        "channel": str(placed.channel),
        "status": str(OrderStatus.PENDING_PAYMENT),
        "created_at": placed.at,
    }
    return [
        Increment(ORDER_DAILY, day, {"orders": 1, "placed_value": placed.totals.total.amount}),
        Upsert(ORDER_STATUSES, order_key, values),
    ]


def _money(tenant: str, decoded: Any) -> list[Change]:
    """The day's money and paid-order counters that an order event moves."""
    deltas: dict[str, int] = {}
    if isinstance(decoded, OrderEvents.PaymentRecorded):
        deltas["payments"] = decoded.amount.amount
        if decoded.status == OrderStatus.PAID:
            deltas["paid_orders"] = 1  # an order reaches paid by a payment once at most
        money = decoded.amount
    elif isinstance(decoded, OrderEvents.RefundRecorded):
        deltas["refunds"] = decoded.amount.amount
        money = decoded.amount
    elif isinstance(decoded, OrderEvents.DisputeClosed) and decoded.charged_back.amount:
        deltas["refunds"] = decoded.charged_back.amount
        money = decoded.charged_back
    else:
        return []
    key = {"tenant_id": tenant, "currency": money.currency, "day": day_of(decoded.at)}
    return [Increment(ORDER_DAILY, key, deltas)]
