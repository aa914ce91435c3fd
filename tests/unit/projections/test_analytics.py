"""Order analytics: the orders dashboard from daily counters, payment outcomes and statuses."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.analytics_queries import MemoryAnalyticsQueries
from commerce_core.ordering.order import Channel, DisputeOutcome, Order, OrderStatus
from commerce_core.projections.ports.analytics import DaySummary
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from tests.unit.projections.shop import T0, Shop, days

MAY_4, MAY_5, MAY_6 = date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6)
CUSTOMER = uuid.uuid4()


def three_days() -> Shop:
    """Three days of a shop; T0 is 2026-05-04 10:00 UTC."""
    shop = Shop()
    a = shop.order(CUSTOMER, 5_000, T0)
    shop.attempt(a, T0)
    a.mark_paid(a.outstanding, uuid.uuid4(), T0)
    a.record_refund(Money(1_000, "USD"), T0 + days(1))
    b = shop.order(CUSTOMER, 3_000, T0, channel=Channel.POS)
    shop.attempt(b, T0, declined=True)
    b.mark_payment_failed("declined", T0)
    b.cancel("gave up", T0 + days(2))
    c = shop.paid(CUSTOMER, 2_000, T0 + days(1), currency="EUR")
    shop.attempt(c, T0 + days(1))
    d = shop.order(CUSTOMER, 4_000, T0 + days(1))
    shop.attempt(d, T0 + days(2))
    d.mark_paid(d.outstanding, uuid.uuid4(), T0 + days(2))
    shop.paid(CUSTOMER, 99_999, T0, tenant="other")
    return shop


async def queries_for(shop: Shop) -> MemoryAnalyticsQueries:
    return MemoryAnalyticsQueries(await shop.project_in_memory())


async def test_the_dashboard_counts_orders_placed_and_money_on_the_day_it_moved() -> None:
    queries = await queries_for(three_days())

    board = await queries.orders_dashboard("acme", "USD", MAY_4, MAY_6)

    assert board.by_day == [
        DaySummary(date="2026-05-04", orders=2, revenue=5_000, payments=5_000, refunds=0),
        DaySummary(date="2026-05-05", orders=1, revenue=-1_000, payments=0, refunds=1_000),
        DaySummary(date="2026-05-06", orders=0, revenue=4_000, payments=4_000, refunds=0),
    ]
    assert (board.orders, board.placed_value) == (3, 12_000)
    assert (board.revenue, board.payments, board.refunds) == (8_000, 9_000, 1_000)
    assert (board.paid_orders, board.average_order_value, board.refund_rate) == (2, 4_000, 0.1111)


async def test_orders_are_counted_by_their_current_status_and_channel() -> None:
    queries = await queries_for(three_days())

    board = await queries.orders_dashboard("acme", "USD", MAY_4, MAY_6)

    assert {s: n for s, n in board.by_status.items() if n} == {
        "partially_refunded": 1,
        "cancelled": 1,
        "paid": 1,
    }
    assert set(board.by_status) == {str(s) for s in OrderStatus}
    assert board.by_channel == {"pos": 1, "web": 2}


async def test_the_payment_success_rate_counts_attempts_in_every_currency() -> None:
    queries = await queries_for(three_days())

    board = await queries.orders_dashboard("acme", "USD", MAY_4, MAY_6)
    first_day = await queries.orders_dashboard("acme", "USD", MAY_4, MAY_4)

    assert (board.payment_attempts, board.payment_successes) == (4, 3)
    assert board.payment_success_rate == 0.75
    assert (first_day.payment_attempts, first_day.payment_success_rate) == (2, 0.5)


async def test_a_narrower_range_counts_only_its_own_days() -> None:
    queries = await queries_for(three_days())

    board = await queries.orders_dashboard("acme", "USD", MAY_5, MAY_5)

    assert (board.orders, board.revenue, board.paid_orders) == (1, -1_000, 0)
    assert (board.average_order_value, board.refund_rate) == (0, 0.0)
    assert {s: n for s, n in board.by_status.items() if n} == {"paid": 1}


async def test_each_currency_and_tenant_has_its_own_dashboard() -> None:
    queries = await queries_for(three_days())

    eur = await queries.orders_dashboard("acme", "EUR", MAY_4, MAY_6)
    other = await queries.orders_dashboard("other", "USD", MAY_4, MAY_6)

    assert (eur.currency, eur.orders, eur.revenue, eur.by_channel) == ("EUR", 1, 2_000, {"web": 1})
    assert (other.orders, other.revenue, other.payment_attempts) == (1, 99_999, 0)


async def test_a_lost_dispute_counts_as_money_given_back_on_the_day_it_closed() -> None:
    shop = Shop()
    order = shop.paid(CUSTOMER, 6_000, T0)
    order.open_dispute("fraudulent", T0 + days(1))
    order.close_dispute(DisputeOutcome.LOST, T0 + days(2))
    queries = await queries_for(shop)

    board = await queries.orders_dashboard("acme", "USD", MAY_4, MAY_6)

    assert [d.refunds for d in board.by_day] == [0, 0, 6_000]
    assert (board.revenue, board.refund_rate, board.by_status["refunded"]) == (0, 1.0, 1)


async def test_without_events_the_dashboard_is_all_zeros_for_every_day() -> None:
    queries = await queries_for(Shop())

    board = await queries.orders_dashboard("acme", "USD", MAY_4, MAY_6)

    assert [d.date for d in board.by_day] == ["2026-05-04", "2026-05-05", "2026-05-06"]
    assert (board.orders, board.revenue, board.payment_success_rate) == (0, 0, 0.0)
    assert set(board.by_status.values()) == {0}


async def test_a_range_must_run_forwards_and_span_at_most_a_year_and_a_day() -> None:
    queries = await queries_for(Shop())

    with pytest.raises(InvalidValueError):
        await queries.orders_dashboard("acme", "USD", MAY_5, MAY_4)
    with pytest.raises(InvalidValueError):
        await queries.orders_dashboard("acme", "USD", date(2025, 5, 4), date(2026, 5, 5))
    assert (
        len((await queries.orders_dashboard("acme", "USD", MAY_4, date(2027, 5, 4))).by_day) == 366
    )


FATES = ("pending", "failed", "cancelled", "paid", "part_refunded", "refunded", "lost_dispute")


def live_through(order: Order, fate: str, later: int) -> None:
    """Takes a new order to ``fate``, its money moving ``later`` days after it was placed."""
    at = order.created_at + days(later)
    if fate == "failed":
        order.mark_payment_failed("declined", at)
    elif fate == "cancelled":
        order.cancel("changed mind", at)
    elif fate != "pending":
        order.mark_paid(order.outstanding, uuid.uuid4(), at)
    if fate == "part_refunded":
        order.record_refund(Money(1, "USD"), at)
    elif fate == "refunded":
        order.record_refund(order.refundable, at + days(1))
    elif fate == "lost_dispute":
        order.open_dispute("fraudulent", at)
        order.close_dispute(DisputeOutcome.LOST, at + days(1))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 50_000),
            st.sampled_from(list(Channel)),
            st.integers(0, 6),
            st.sampled_from(FATES),
            st.integers(0, 3),
        ),
        max_size=12,
    )
)
async def test_the_whole_range_agrees_with_the_orders_themselves(
    orders: list[tuple[int, Channel, int, str, int]],
) -> None:
    shop = Shop()
    placed: list[Order] = []
    for total, channel, day, fate, later in orders:
        order = shop.order(CUSTOMER, total, T0 + days(day), channel=channel)
        live_through(order, fate, later)
        placed.append(order)
    queries = await queries_for(shop)

    board = await queries.orders_dashboard("acme", "USD", MAY_4, date(2026, 5, 20))

    assert board.orders == len(placed) == sum(d.orders for d in board.by_day)
    assert board.revenue == sum(o.paid.amount - o.refunded.amount for o in placed)
    assert board.revenue == sum(d.revenue for d in board.by_day)
    assert board.paid_orders == sum(1 for o in placed if o.paid.amount)
    statuses = Counter(str(o.status) for o in placed)
    assert {s: n for s, n in board.by_status.items() if n} == dict(statuses)
    assert board.by_channel == dict(sorted(Counter(str(o.channel) for o in placed).items()))
