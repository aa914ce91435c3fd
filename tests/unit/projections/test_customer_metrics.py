"""Customer metrics: what each customer bought, their segments, and the customers dashboard."""

from __future__ import annotations

import uuid

from adapters.memory.analytics_queries import MemoryAnalyticsQueries
from commerce_core.customers.segments import AT_RISK, HIGH_VALUE_NEW, VIP, SegmentRules
from commerce_core.ordering.order import DisputeOutcome
from commerce_core.shared.money import Money
from tests.unit.projections.shop import T0, Shop, analytics_projections, days

RULES = SegmentRules()
ANN, BOB, CY = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


async def queries_for(shop: Shop) -> MemoryAnalyticsQueries:
    return MemoryAnalyticsQueries(await shop.project_in_memory())


async def test_orders_count_once_paid_and_spend_is_net_of_refunds() -> None:
    shop = Shop()
    shop.paid(ANN, 5_000, T0)
    refunded = shop.paid(ANN, 7_000, T0 + days(10))
    refunded.record_refund(Money(2_000, "USD"), T0 + days(11))
    shop.order(ANN, 9_000, T0 + days(20))  # awaiting payment
    shop.order(ANN, 3_000, T0 + days(21)).cancel("changed mind", T0 + days(21))
    shop.order(ANN, 4_000, T0 + days(22)).mark_payment_failed("declined", T0 + days(22))
    queries = await queries_for(shop)

    ann = await queries.customer_analytics("acme", ANN, RULES, T0 + days(30))

    assert (ann.total_orders, ann.total_spent, ann.average_order_value) == (2, 10_000, 5_000)
    assert (ann.first_order_at, ann.first_order_total) == (T0, 5_000)
    assert ann.last_order_at == T0 + days(10)
    assert ann.segments == []


async def test_a_lost_dispute_takes_the_money_back_but_the_order_still_counts() -> None:
    shop = Shop()
    order = shop.paid(BOB, 8_000, T0)
    order.open_dispute("fraudulent", T0 + days(1))
    order.close_dispute(DisputeOutcome.LOST, T0 + days(2))
    queries = await queries_for(shop)

    bob = await queries.customer_analytics("acme", BOB, RULES, T0 + days(3))

    assert (bob.total_orders, bob.total_spent, bob.average_order_value) == (1, 0, 0)


async def test_a_partly_paid_order_counts_with_what_was_received() -> None:
    shop = Shop()
    order = shop.order(CY, 6_000, T0)
    order.mark_paid(Money(2_500, "USD"), uuid.uuid4(), T0 + days(1))
    queries = await queries_for(shop)

    cy = await queries.customer_analytics("acme", CY, RULES, T0 + days(3))

    assert (cy.total_orders, cy.total_spent, cy.first_order_total) == (1, 2_500, 6_000)


async def test_the_average_order_value_rounds_half_to_even() -> None:
    shop = Shop()
    for total in (5_000, 5_001, 4_000, 4_001, 4_002):  # 22_004 / 5 = 4_400.8
        shop.paid(ANN, total, T0)
    shop.paid(BOB, 3_001, T0)
    shop.paid(BOB, 3_000, T0)  # 6_001 / 2 = 3_000.5
    queries = await queries_for(shop)

    ann = await queries.customer_analytics("acme", ANN, RULES, T0)
    bob = await queries.customer_analytics("acme", BOB, RULES, T0)

    assert (ann.average_order_value, bob.average_order_value) == (4_401, 3_000)


async def test_each_currency_and_each_tenant_is_measured_on_its_own() -> None:
    shop = Shop()
    shop.paid(ANN, 5_000, T0)
    shop.paid(ANN, 7_000, T0 + days(1), currency="EUR")
    shop.paid(ANN, 9_000, T0 + days(2), tenant="other")
    queries = await queries_for(shop)

    usd = await queries.customer_analytics("acme", ANN, RULES, T0 + days(3))
    eur = await queries.customer_analytics("acme", ANN, SegmentRules(currency="EUR"), T0)
    other = await queries.customer_analytics("other", ANN, RULES, T0 + days(3))

    assert [(m.currency, m.total_spent) for m in (usd, eur, other)] == [
        ("USD", 5_000),
        ("EUR", 7_000),
        ("USD", 9_000),
    ]


async def test_a_customer_without_orders_gets_empty_metrics() -> None:
    queries = await queries_for(Shop())

    nobody = await queries.customer_analytics("acme", ANN, RULES, T0)

    assert (nobody.total_orders, nobody.total_spent, nobody.average_order_value) == (0, 0, 0)
    assert (nobody.first_order_at, nobody.last_order_at, nobody.segments) == (None, None, [])


async def test_segments_follow_the_metrics_and_the_clock() -> None:
    shop = Shop()
    for n in range(10):
        shop.paid(ANN, 10_001, T0 + days(n))
    shop.paid(BOB, 20_000, T0 + days(40))
    queries = await queries_for(shop)

    soon, later = T0 + days(45), T0 + days(200)
    ann = await queries.customer_analytics("acme", ANN, RULES, soon)
    bob = await queries.customer_analytics("acme", BOB, RULES, soon)
    ann_later = await queries.customer_analytics("acme", ANN, RULES, later)

    assert (ann.segments, bob.segments) == ([VIP], [HIGH_VALUE_NEW])
    assert ann_later.segments == [VIP, AT_RISK]


async def test_the_customers_dashboard_counts_buyers_segments_and_repeat_customers() -> None:
    shop = Shop()
    for n in range(10):
        shop.paid(ANN, 10_001, T0 - days(120) + days(n))  # a VIP gone quiet
    shop.paid(BOB, 20_000, T0)  # new this month, high value
    shop.paid(CY, 3_000, T0 - days(40))
    shop.paid(CY, 3_000, T0)
    shop.order(uuid.uuid4(), 9_999, T0)  # never paid: not a buyer
    queries = await queries_for(shop)

    dashboard = await queries.customers_dashboard("acme", RULES, T0 + days(1))

    assert (dashboard.customers, dashboard.new_this_month, dashboard.repeat_customers) == (3, 1, 2)
    assert dashboard.repeat_rate == 0.6667
    assert dashboard.lifetime_value == 100_010 + 20_000 + 6_000
    assert dashboard.segments == {VIP: 1, HIGH_VALUE_NEW: 1, AT_RISK: 1}


async def test_monthly_cohorts_count_who_came_back_each_month_after_their_first() -> None:
    may, june, july = T0, T0 + days(31), T0 + days(62)  # 2026-05-04, 06-04, 07-05
    shop = Shop()
    shop.paid(ANN, 1_000, may)
    shop.paid(ANN, 1_000, july)
    shop.paid(BOB, 1_000, may)
    shop.paid(BOB, 1_000, june)
    shop.paid(CY, 1_000, june)
    shop.paid(CY, 1_000, june + days(1))
    queries = await queries_for(shop)

    dashboard = await queries.customers_dashboard("acme", RULES, july)

    *earlier, may_cohort, june_cohort, july_cohort = dashboard.cohorts
    assert len(dashboard.cohorts) == 12
    assert all(c.customers == 0 for c in earlier)
    assert (may_cohort.month, may_cohort.customers) == ("2026-05", 2)
    assert may_cohort.retention == [2, 1, 1]
    assert (june_cohort.month, june_cohort.retention) == ("2026-06", [1, 0])
    assert (july_cohort.month, july_cohort.retention) == ("2026-07", [0])


def test_the_analytics_tables_hold_ids_amounts_dates_and_statuses_only() -> None:
    allowed = {
        "tenant_id", "order_id", "customer_id", "currency", "channel", "status", "day",
        "created_at", "total", "paid", "refunded", "orders", "placed_value", "payments",
        "refunds", "paid_orders", "successes", "failures", "placed_at",
        # marketing labels (utm_source, utm_medium, utm_campaign); never the term, content,
        # referrer or landing page, which can carry what a person typed or visited
        "source", "medium", "campaign",
    }  # fmt: skip

    columns = {
        column.name
        for projection in analytics_projections()
        for table in projection.tables
        for column in table.columns
    }

    assert columns <= allowed, "personal data never goes into a read model"
