"""Customer analytics and dashboards on PostgreSQL, over the projections' serving views.

SQL only gathers (sums, counts, firsts per customer); the figures derived from
them (averages, rates, segments, cohorts) come from the same pure functions as
in memory. The rules these queries repeat in SQL are those of
``commerce_core.projections.customer_metrics.activity_of``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from commerce_core.customers.segments import SegmentRules
from commerce_core.projections import analytics
from commerce_core.projections.attribution import ORDER_ATTRIBUTION
from commerce_core.projections.attribution_report import (
    AttributionReport,
    GroupBy,
    GroupSums,
    attribution_report,
)
from commerce_core.projections.customer_dashboard import customer_analytics, customers_dashboard
from commerce_core.projections.customer_metrics import TABLE as CUSTOMER_ORDERS
from commerce_core.projections.customer_metrics import CustomerActivity, CustomerMetrics
from commerce_core.projections.order_dashboard import (
    DayRow,
    StatusCount,
    check_range,
    created_bounds,
    orders_dashboard,
)
from commerce_core.projections.ports.analytics import (
    CustomerAnalytics,
    CustomersDashboard,
    OrdersDashboard,
)
from commerce_core.projections.tables import serving_name

# Counted orders (money received) per customer; ties of created_at go to the smaller id.
_ACTIVITY = f"""
SELECT customer_id,
       count(*) AS orders,
       sum(COALESCE(paid, 0) - COALESCE(refunded, 0))::bigint AS spent,
       min(created_at) AS first_at,
       max(created_at) AS last_at,
       (array_agg(COALESCE(total, 0) ORDER BY created_at, order_id))[1] AS first_total,
       array_agg(DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM')) AS months
  FROM {serving_name(CUSTOMER_ORDERS)}
 WHERE tenant_id = $1 AND currency = $2 AND paid > 0 {{customer}}
 GROUP BY customer_id
"""

# ISO dates compare as text; "C" compares them as Python does, whatever the database's locale.
_DAYS = f"""
SELECT day, orders, placed_value, payments, refunds, paid_orders
  FROM {serving_name(analytics.ORDER_DAILY)}
 WHERE tenant_id = $1 AND currency = $2 AND day COLLATE "C" BETWEEN $3 AND $4
"""

_PAYMENTS = f"""
SELECT COALESCE(sum(successes), 0)::bigint, COALESCE(sum(failures), 0)::bigint
  FROM {serving_name(analytics.PAYMENT_DAILY)}
 WHERE tenant_id = $1 AND day COLLATE "C" BETWEEN $2 AND $3
"""

_STATUSES = f"""
SELECT status, channel, count(*) AS orders
  FROM {serving_name(analytics.ORDER_STATUSES)}
 WHERE tenant_id = $1 AND currency = $2 AND created_at >= $3 AND created_at < $4
 GROUP BY status, channel
"""

# {group} is a column named by ``GroupBy`` (never client text).
_ATTRIBUTION = f"""
SELECT {{group}} AS grp,
       count(*) AS orders,
       count(*) FILTER (WHERE paid > 0) AS paid_orders,
       COALESCE(sum(paid), 0)::bigint AS paid,
       COALESCE(sum(refunded), 0)::bigint AS refunded
  FROM {serving_name(ORDER_ATTRIBUTION)}
 WHERE tenant_id = $1 AND currency = $2 AND placed_at >= $3 AND placed_at < $4
 GROUP BY {{group}}
"""
_GROUP_COLUMNS = {g: g.value for g in GroupBy}


class PostgresAnalyticsQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def customer_analytics(
        self, tenant_id: str, customer_id: UUID, rules: SegmentRules, now: datetime
    ) -> CustomerAnalytics:
        sql = _ACTIVITY.format(customer="AND customer_id = $3")
        rows = await self._fetch(sql, tenant_id, rules.currency, customer_id)
        if rows:
            metrics = _activity(rows[0], rules.currency).metrics
        else:
            metrics = CustomerMetrics(customer_id=customer_id, currency=rules.currency)
        return customer_analytics(metrics, rules, now)

    async def customers_dashboard(
        self, tenant_id: str, rules: SegmentRules, now: datetime
    ) -> CustomersDashboard:
        rows = await self._fetch(_ACTIVITY.format(customer=""), tenant_id, rules.currency)
        return customers_dashboard([_activity(row, rules.currency) for row in rows], rules, now)

    async def orders_dashboard(
        self, tenant_id: str, currency: str, start: date, end: date
    ) -> OrdersDashboard:
        check_range(start, end)
        first, last = start.isoformat(), end.isoformat()
        since, until = created_bounds(start, end)
        days = await self._fetch(_DAYS, tenant_id, currency, first, last)
        payments = await self._fetch(_PAYMENTS, tenant_id, first, last)
        statuses = await self._fetch(_STATUSES, tenant_id, currency, since, until)
        return orders_dashboard(
            currency,
            start,
            end,
            [_day(row) for row in days],
            (payments[0][0], payments[0][1]) if payments else (0, 0),
            [StatusCount(row["status"], row["channel"], row["orders"]) for row in statuses],
        )

    async def attribution(
        self, tenant_id: str, currency: str, start: date, end: date, group_by: GroupBy
    ) -> AttributionReport:
        check_range(start, end)
        since, until = created_bounds(start, end)
        sql = _ATTRIBUTION.format(group=_GROUP_COLUMNS[GroupBy(group_by)])
        rows = await self._fetch(sql, tenant_id, currency, since, until)
        sums = [
            GroupSums(
                group=row["grp"],
                orders=row["orders"],
                paid_orders=row["paid_orders"],
                paid=row["paid"],
                refunded=row["refunded"],
            )
            for row in rows
        ]
        return attribution_report(currency, start, end, group_by, sums)

    async def _fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        try:
            return await self._pool.fetch(sql, *args)
        except asyncpg.UndefinedTableError:
            return []  # the projection has not created its tables yet: nothing to count


def _day(row: asyncpg.Record) -> DayRow:
    return DayRow(
        day=row["day"],
        orders=row["orders"] or 0,
        placed_value=row["placed_value"] or 0,
        payments=row["payments"] or 0,
        refunds=row["refunds"] or 0,
        paid_orders=row["paid_orders"] or 0,
    )


def _activity(row: asyncpg.Record, currency: str) -> CustomerActivity:
    metrics = CustomerMetrics(
        customer_id=row["customer_id"],
        currency=currency,
        total_orders=row["orders"],
        total_spent=row["spent"],
        first_order_at=row["first_at"],
        first_order_total=row["first_total"],
        last_order_at=row["last_at"],
    )
    return CustomerActivity(metrics=metrics, months=frozenset(row["months"]))
