"""Customer segments: pure rules over a customer's metrics, evaluated when asked.

Segments are never stored: they depend on the clock (at-risk) and on the
tenant's rules, which may change at any time, so storing them would need a
rebuild at every tick and every change of rules. Amounts are minor units of
``SegmentRules.currency``, the currency the metrics are measured in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec

from commerce_core.domain.money import check_currency
from commerce_core.projections.customer_metrics import CustomerMetrics

VIP = "vip"
HIGH_VALUE_NEW = "high_value_new"
AT_RISK = "at_risk"
SEGMENTS = (VIP, HIGH_VALUE_NEW, AT_RISK)
"""Every segment, in the order ``segments_for`` lists them."""

NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class SegmentRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant's thresholds (the defaults are the product's; tenants may override any).

    - ``vip``: lifetime value above ``vip_min_lifetime_value`` and at least
      ``vip_min_orders`` orders.
    - ``high_value_new``: first order's total above ``high_value_min_first_order``,
      and that first order at most ``new_customer_days`` days ago.
    - ``at_risk``: has ordered, but the last order is more than
      ``at_risk_after_days`` days ago.
    """

    currency: str = "USD"
    vip_min_lifetime_value: NonNegative = 100_000
    vip_min_orders: NonNegative = 10
    high_value_min_first_order: NonNegative = 10_000
    new_customer_days: NonNegative = 30
    at_risk_after_days: NonNegative = 90

    def __post_init__(self) -> None:
        check_currency(self.currency)


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
