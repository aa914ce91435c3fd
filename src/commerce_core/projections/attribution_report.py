"""The attribution report, assembled from ``order_attribution`` rows grouped by one dimension.

Pure: the query adapters gather per group (orders, orders with money received, money
received and given back) and hand the sums here, so the derived figures come from one
piece of code whatever the storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

import msgspec

from commerce_core.projections.measures import average, rate

NONE_GROUP = "(none)"
"""The group of orders that name no value for the dimension (no ``utm_source``, say)."""


class GroupBy(StrEnum):
    """What ``GET /analytics/attribution`` groups orders by."""

    SOURCE = "source"
    MEDIUM = "medium"
    CAMPAIGN = "campaign"
    CHANNEL = "channel"


class GroupSums(msgspec.Struct, frozen=True, kw_only=True):
    """The sums of one group's rows; ``group`` is ``None`` for rows without a value."""

    group: str | None
    orders: int
    paid_orders: int
    paid: int
    refunded: int


class AttributionGroup(msgspec.Struct, frozen=True, kw_only=True):
    """One group: ``orders`` placed in the range; ``revenue`` their money received less
    refunded; ``average_order_value`` revenue over the orders that received money;
    ``refund_rate`` refunded over received (money)."""

    group: str
    orders: int
    revenue: int
    average_order_value: int
    refund_rate: float
    paid: int
    refunded: int
    paid_orders: int


class AttributionReport(msgspec.Struct, frozen=True, kw_only=True):
    """`GET /analytics/attribution` for the UTC days ``start`` to ``end``, both included.

    Orders placed in those days (an imported order: when the channel took it), in
    ``currency``, grouped by ``group_by``; their money counts whenever it moved (unlike the
    orders dashboard, which counts money on the day it moved). Groups by revenue, highest
    first; orders without a value are in the group ``"(none)"``."""

    currency: str
    start: date
    end: date
    group_by: GroupBy
    orders: int
    revenue: int
    groups: list[AttributionGroup]


def attribution_report(
    currency: str, start: date, end: date, group_by: GroupBy, sums: Iterable[GroupSums]
) -> AttributionReport:
    """The report; several sums of one group (``None`` and ``"(none)"``) are added up."""
    merged: dict[str, GroupSums] = {}
    for part in sums:
        name = part.group if part.group is not None else NONE_GROUP
        earlier = merged.get(name)
        if earlier is not None:
            part = GroupSums(
                group=name,
                orders=earlier.orders + part.orders,
                paid_orders=earlier.paid_orders + part.paid_orders,
                paid=earlier.paid + part.paid,
                refunded=earlier.refunded + part.refunded,
            )
        merged[name] = part
    groups = [
        AttributionGroup(
            group=name,
            orders=s.orders,
            revenue=s.paid - s.refunded,
            average_order_value=average(s.paid - s.refunded, s.paid_orders),
            refund_rate=rate(s.refunded, s.paid),
            paid=s.paid,
            refunded=s.refunded,
            paid_orders=s.paid_orders,
        )
        for name, s in merged.items()
    ]
    groups.sort(key=lambda g: (-g.revenue, -g.orders, g.group))
    return AttributionReport(
        currency=currency,
        start=start,
        end=end,
        group_by=group_by,
        orders=sum(g.orders for g in groups),
        revenue=sum(g.revenue for g in groups),
        groups=groups,
    )
