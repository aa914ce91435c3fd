"""Queries on the analytics read models: one customer's metrics and segments, dashboards.

Read models may lag commands by a moment. Money is integer minor units of the
one ``currency`` a result names; a tenant that sells in several currencies asks
once per currency. Rates are ratios (not money): floats rounded to 4 decimals,
0.0 when nothing was counted. A customer's own order list is
``OrderQueries.list_orders`` with ``OrderFilters(customer_id=...)``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.customers.segments import SegmentRules
from commerce_core.projections.attribution_report import AttributionReport, GroupBy
from commerce_core.projections.customer_metrics import CustomerMetrics

__all__ = [
    "AnalyticsQueries",
    "AttributionReport",
    "Cohort",
    "CustomerAnalytics",
    "CustomerMetrics",
    "CustomersDashboard",
    "DaySummary",
    "OrdersDashboard",
    "SegmentRules",
]


class CustomerAnalytics(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /customers/{id}/analytics`: the metrics, their average and the segments."""

    customer_id: UUID
    currency: str
    total_orders: int
    total_spent: int
    average_order_value: int
    first_order_at: datetime | None
    first_order_total: int | None
    last_order_at: datetime | None
    segments: list[str]


class Cohort(msgspec.Struct, frozen=True, kw_only=True):
    """Customers whose first counted order fell in ``month`` (``"2026-05"``, UTC).

    ``retention[k]`` is how many of them ordered in the k-th month after it
    (``retention[0] == customers``), up to the current month.
    """

    month: str
    customers: int
    retention: list[int]


class CustomersDashboard(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /analytics/customers/dashboard`, over customers with a counted order.

    ``new_this_month``: first counted order in the current UTC month;
    ``repeat_rate``: share of customers with at least two counted orders;
    ``segments``: customers per segment (every segment named, zeros included).
    """

    currency: str
    customers: int
    new_this_month: int
    repeat_customers: int
    repeat_rate: float
    lifetime_value: int
    segments: dict[str, int]
    cohorts: list[Cohort]


class DaySummary(msgspec.Struct, frozen=True, kw_only=True):
    """One UTC day of the orders dashboard (``date`` is ``"2026-05-01"``)."""

    date: str
    orders: int
    revenue: int
    payments: int
    refunds: int


class OrdersDashboard(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /analytics/orders/dashboard` for the UTC days ``start`` to ``end``, both included.

    - ``orders``: orders placed in those days, ``placed_value`` the sum of their
      totals; ``by_status`` / ``by_channel`` count them by their current status /
      channel (every status named, zeros included).
    - ``revenue``: ``payments`` received minus ``refunds`` (refunds and lost
      disputes), each on the day the money moved, whatever day the order was placed.
    - ``average_order_value``: ``revenue / paid_orders`` (orders that became
      fully paid in those days), rounded half to even; 0 without paid orders.
    - ``payment_success_rate``: payment attempts the gateway authorized over
      those it decided (authorized or failed), all currencies together because a
      failed attempt records no amount.
    - ``refund_rate``: ``refunds / payments`` (money).
    """

    currency: str
    start: date
    end: date
    orders: int
    revenue: int
    average_order_value: int
    payment_success_rate: float
    refund_rate: float
    placed_value: int
    payments: int
    refunds: int
    paid_orders: int
    payment_attempts: int
    payment_successes: int
    by_status: dict[str, int]
    by_channel: dict[str, int]
    by_day: list[DaySummary]


class AnalyticsQueries(Protocol):
    """Customer metrics and dashboards, read from the analytics projections.

    ``now`` comes from the ``Clock`` (segments and "this month" depend on it);
    ``rules`` are the tenant's segment rules, whose ``currency`` the customer
    queries measure in. ``orders_dashboard`` raises ``InvalidValueError`` when
    ``end`` is before ``start`` or the range is longer than ``MAX_DASHBOARD_DAYS``;
    so does ``attribution``.
    """

    async def customer_analytics(
        self, tenant_id: str, customer_id: UUID, rules: SegmentRules, now: datetime
    ) -> CustomerAnalytics: ...

    async def customers_dashboard(
        self, tenant_id: str, rules: SegmentRules, now: datetime
    ) -> CustomersDashboard: ...

    async def orders_dashboard(
        self, tenant_id: str, currency: str, start: date, end: date
    ) -> OrdersDashboard: ...

    async def attribution(
        self, tenant_id: str, currency: str, start: date, end: date, group_by: GroupBy
    ) -> AttributionReport: ...
