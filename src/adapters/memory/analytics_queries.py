"""Customer analytics and dashboards over the memory read model (same answers as PostgreSQL)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any
from uuid import UUID

from adapters.memory.readmodel import MemoryReadModel
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
from commerce_core.projections.customer_metrics import CustomerActivity, activity_of
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


class MemoryAnalyticsQueries:
    def __init__(self, read_model: MemoryReadModel) -> None:
        self._read_model = read_model

    async def customer_analytics(
        self, tenant_id: str, customer_id: UUID, rules: SegmentRules, now: datetime
    ) -> CustomerAnalytics:
        rows = await self._rows(CUSTOMER_ORDERS, tenant_id=tenant_id, customer_id=customer_id)
        activity = activity_of(customer_id, rules.currency, rows)
        return customer_analytics(activity.metrics, rules, now)

    async def customers_dashboard(
        self, tenant_id: str, rules: SegmentRules, now: datetime
    ) -> CustomersDashboard:
        rows = await self._rows(CUSTOMER_ORDERS, tenant_id=tenant_id, currency=rules.currency)
        by_customer: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            by_customer[row["customer_id"]].append(row)
        activities: list[CustomerActivity] = [
            activity_of(customer, rules.currency, orders)
            for customer, orders in by_customer.items()
        ]
        return customers_dashboard(activities, rules, now)

    async def orders_dashboard(
        self, tenant_id: str, currency: str, start: date, end: date
    ) -> OrdersDashboard:
        check_range(start, end)
        first, last = start.isoformat(), end.isoformat()
        days = [
            DayRow(
                day=row["day"],
                orders=row["orders"] or 0,
                placed_value=row["placed_value"] or 0,
                payments=row["payments"] or 0,
                refunds=row["refunds"] or 0,
                paid_orders=row["paid_orders"] or 0,
            )
            for row in await self._rows(
                analytics.ORDER_DAILY, tenant_id=tenant_id, currency=currency
            )
            if first <= row["day"] <= last
        ]
        successes = failures = 0
        for row in await self._rows(analytics.PAYMENT_DAILY, tenant_id=tenant_id):
            if first <= row["day"] <= last:
                successes += row["successes"] or 0
                failures += row["failures"] or 0
        since, until = created_bounds(start, end)
        counts: Counter[tuple[str, str | None]] = Counter(
            (row["status"], row["channel"])
            for row in await self._rows(
                analytics.ORDER_STATUSES, tenant_id=tenant_id, currency=currency
            )
            if row["created_at"] is not None and since <= row["created_at"] < until
        )
        statuses = [StatusCount(status, channel, n) for (status, channel), n in counts.items()]
        return orders_dashboard(currency, start, end, days, (successes, failures), statuses)

    async def attribution(
        self, tenant_id: str, currency: str, start: date, end: date, group_by: GroupBy
    ) -> AttributionReport:
        check_range(start, end)
        since, until = created_bounds(start, end)
        column = GroupBy(group_by).value
        sums: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for row in await self._rows(ORDER_ATTRIBUTION, tenant_id=tenant_id, currency=currency):
            if row["placed_at"] is None or not since <= row["placed_at"] < until:
                continue
            paid, refunded = row["paid"] or 0, row["refunded"] or 0
            totals = sums[row[column]]
            totals[0] += 1
            totals[1] += 1 if paid > 0 else 0
            totals[2] += paid
            totals[3] += refunded
        groups = [
            GroupSums(group=g, orders=o, paid_orders=po, paid=p, refunded=r)
            for g, (o, po, p, r) in sums.items()
        ]
        return attribution_report(currency, start, end, group_by, groups)

    async def _rows(self, table: str, **where: Any) -> list[dict[str, Any]]:
        try:
            return await self._read_model.rows(table, **where)
        except LookupError:
            return []  # the projection has not run yet: nothing to count
