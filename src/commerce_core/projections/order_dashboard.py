"""The orders dashboard, assembled from the order analytics rows of a date range.

Pure: query adapters read the rows (``order_daily`` days, ``payment_daily``
totals, counts of ``order_statuses`` by status and channel) and hand them here,
so the derived numbers are computed by one piece of code whatever the storage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from commerce_core.ordering.order import OrderStatus
from commerce_core.projections.measures import average, rate
from commerce_core.projections.ports.analytics import DaySummary, OrdersDashboard
from commerce_core.shared.errors import InvalidValueError

MAX_DASHBOARD_DAYS = 366


class DayRow(msgspec.Struct, frozen=True, kw_only=True):
    """An ``order_daily`` row (absent days are all zeros)."""

    day: str
    orders: int = 0
    placed_value: int = 0
    payments: int = 0
    refunds: int = 0
    paid_orders: int = 0


class StatusCount(msgspec.Struct, frozen=True):
    """How many orders placed in the range are in ``status`` and came from ``channel``."""

    status: str
    channel: str | None
    orders: int


def check_range(start: date, end: date) -> None:
    """Raises ``InvalidValueError`` unless ``start <= end`` and the range is not too long."""
    if end < start:
        raise InvalidValueError(f"the range ends ({end}) before it starts ({start})")
    if (end - start).days + 1 > MAX_DASHBOARD_DAYS:
        raise InvalidValueError(f"a dashboard covers at most {MAX_DASHBOARD_DAYS} days")


def created_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants ``[from, to)`` that the UTC days ``start`` to ``end`` cover."""
    return (
        datetime.combine(start, time(), UTC),
        datetime.combine(end + timedelta(days=1), time(), UTC),
    )


def days_between(start: date, end: date) -> list[str]:
    """Every UTC day from ``start`` to ``end``, both included, as ``"2026-05-01"``."""
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def orders_dashboard(
    currency: str,
    start: date,
    end: date,
    days: Iterable[DayRow],
    payment_outcomes: tuple[int, int],
    statuses: Sequence[StatusCount],
) -> OrdersDashboard:
    """The dashboard; ``payment_outcomes`` is (successes, failures) over the range."""
    by_day = {row.day: row for row in days}
    rows = [by_day.get(day, DayRow(day=day)) for day in days_between(start, end)]
    payments = sum(r.payments for r in rows)
    refunds = sum(r.refunds for r in rows)
    paid_orders = sum(r.paid_orders for r in rows)
    successes, failures = payment_outcomes
    by_status: Counter[str] = Counter({str(s): 0 for s in OrderStatus})
    by_channel: Counter[str] = Counter()
    for count in statuses:
        by_status[count.status] += count.orders
        by_channel[count.channel or "unknown"] += count.orders
    return OrdersDashboard(
        currency=currency,
        start=start,
        end=end,
        orders=sum(r.orders for r in rows),
        revenue=payments - refunds,
        average_order_value=average(payments - refunds, paid_orders),
        payment_success_rate=rate(successes, successes + failures),
        refund_rate=rate(refunds, payments),
        placed_value=sum(r.placed_value for r in rows),
        payments=payments,
        refunds=refunds,
        paid_orders=paid_orders,
        payment_attempts=successes + failures,
        payment_successes=successes,
        by_status=dict(by_status),
        by_channel=dict(sorted(by_channel.items())),
        by_day=[
            DaySummary(
                date=r.day,
                orders=r.orders,
                revenue=r.payments - r.refunds,
                payments=r.payments,
                refunds=r.refunds,
            )
            for r in rows
        ],
    )
