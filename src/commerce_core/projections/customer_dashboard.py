"""Customer analytics and the customers dashboard, assembled from customer activity.

Pure: every query adapter reads ``CustomerActivity`` its own way (Python or
SQL) and hands it here, so the averages, segments and cohorts are computed by
one piece of code whatever the storage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from commerce_core.customers.segments import SEGMENTS, SegmentRules
from commerce_core.projections.customer_metrics import CustomerActivity, CustomerMetrics, month_of
from commerce_core.projections.measures import average, rate
from commerce_core.projections.ports.analytics import Cohort, CustomerAnalytics, CustomersDashboard
from commerce_core.projections.segments import segments_for

COHORT_MONTHS = 12
"""How many monthly cohorts the dashboard shows, the current month included."""


def customer_analytics(
    metrics: CustomerMetrics, rules: SegmentRules, now: datetime
) -> CustomerAnalytics:
    """`GET /customers/{id}/analytics` from the customer's metrics."""
    return CustomerAnalytics(
        customer_id=metrics.customer_id,
        currency=metrics.currency,
        total_orders=metrics.total_orders,
        total_spent=metrics.total_spent,
        average_order_value=average(metrics.total_spent, metrics.total_orders),
        first_order_at=metrics.first_order_at,
        first_order_total=metrics.first_order_total,
        last_order_at=metrics.last_order_at,
        segments=segments_for(metrics, rules, now),
    )


def customers_dashboard(
    activities: Sequence[CustomerActivity],
    rules: SegmentRules,
    now: datetime,
    cohort_months: int = COHORT_MONTHS,
) -> CustomersDashboard:
    """The dashboard over customers with at least one counted order (others are skipped)."""
    buyers = [a for a in activities if a.metrics.total_orders > 0]
    this_month = month_of(now)
    segments: Counter[str] = Counter()
    for activity in buyers:
        segments.update(segments_for(activity.metrics, rules, now))
    repeat = sum(1 for a in buyers if a.metrics.total_orders >= 2)
    return CustomersDashboard(
        currency=rules.currency,
        customers=len(buyers),
        new_this_month=sum(1 for a in buyers if min(a.months) == this_month),
        repeat_customers=repeat,
        repeat_rate=rate(repeat, len(buyers)),
        lifetime_value=sum(a.metrics.total_spent for a in buyers),
        segments={name: segments[name] for name in SEGMENTS},
        cohorts=cohorts(buyers, now, cohort_months),
    )


def cohorts(activities: Sequence[CustomerActivity], now: datetime, months: int) -> list[Cohort]:
    """The last ``months`` monthly cohorts, oldest first, with their retention up to now."""
    current = _index(month_of(now))
    first_months = range(current - months + 1, current + 1)
    sizes: Counter[int] = Counter()
    active: Counter[tuple[int, int]] = Counter()  # (cohort, months after it) -> customers
    for activity in activities:
        if not activity.months:
            continue
        cohort = _index(min(activity.months))
        if cohort not in first_months:
            continue
        sizes[cohort] += 1
        for month in activity.months:
            active[(cohort, _index(month) - cohort)] += 1
    return [
        Cohort(
            month=_name(cohort),
            customers=sizes[cohort],
            retention=[active[(cohort, k)] for k in range(current - cohort + 1)],
        )
        for cohort in first_months
    ]


def _index(month: str) -> int:
    """``"2026-05"`` as a count of months, so that months subtract."""
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


def _name(index: int) -> str:
    year, number = divmod(index, 12)
    return f"{year:04d}-{number + 1:02d}"
