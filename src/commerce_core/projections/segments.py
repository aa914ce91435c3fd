"""Customer segments: pure rules over a customer's metrics, evaluated when asked.

Segments are never stored: they depend on the clock (at-risk) and on the
tenant's rules, which may change at any time, so storing them would need a
rebuild at every tick and every change of rules. Amounts are minor units of
``SegmentRules.currency``, the currency the metrics are measured in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from commerce_core.customers.segments import AT_RISK, HIGH_VALUE_NEW, VIP, SegmentRules
from commerce_core.projections.customer_metrics import CustomerMetrics


def segments_for(metrics: CustomerMetrics, rules: SegmentRules, now: datetime) -> list[str]:
    """The segments a customer is in at ``now``, in ``SEGMENTS`` order."""
    found: list[str] = []
    if (
        metrics.total_spent > rules.vip_min_lifetime_value
        and metrics.total_orders >= rules.vip_min_orders
    ):
        found.append(VIP)
    first_at, first_total = metrics.first_order_at, metrics.first_order_total
    if (
        first_at is not None
        and first_total is not None
        and first_total > rules.high_value_min_first_order
        and now - first_at <= timedelta(days=rules.new_customer_days)
    ):
        found.append(HIGH_VALUE_NEW)
    last_at = metrics.last_order_at
    if last_at is not None and now - last_at > timedelta(days=rules.at_risk_after_days):
        found.append(AT_RISK)
    return found
