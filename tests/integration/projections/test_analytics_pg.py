"""Analytics queries on PostgreSQL answer exactly as the memory ones, over the same history.

The history goes through the real event store and projection runner into a
private schema; the memory side projects the very same aggregates.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg

from adapters.memory.analytics_queries import MemoryAnalyticsQueries
from adapters.postgres.analytics_queries import PostgresAnalyticsQueries
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.customers.segments import SegmentRules
from commerce_core.ordering.order import Order
from commerce_core.projections.attribution_report import GroupBy
from commerce_core.projections.runner import ProjectionRunner
from tests.integration.projections.conftest import newest_position
from tests.unit.projections.shop import (
    T0,
    Shop,
    analytics_projections,
    copy_to_memory,
    days,
    project_in_memory,
    varied_history,
)

CUSTOMERS = [uuid.uuid4() for _ in range(9)]
RULES = [
    SegmentRules(),
    SegmentRules(currency="EUR"),
    SegmentRules(vip_min_lifetime_value=5_000, vip_min_orders=2, new_customer_days=400),
]
RANGES = [
    (date(2025, 10, 1), date(2026, 5, 31)),
    (date(2025, 12, 1), date(2025, 12, 31)),
    (date(2026, 5, 4), date(2026, 5, 4)),
]


async def project_into_postgres(shop: Shop, store: PostgresEventStore, pool: asyncpg.Pool) -> None:
    await shop.save(store)
    newest = await newest_position(pool)
    async with ProjectionRunner(
        store, PostgresReadModel(pool), analytics_projections(), batch_size=50
    ) as runner:
        async with asyncio.timeout(20):
            for projection in analytics_projections():
                await runner.wait_for(projection.name, newest)


async def test_postgres_and_memory_give_the_same_customer_analytics_and_dashboards(
    pool: asyncpg.Pool, store: PostgresEventStore
) -> None:
    await project_into_postgres(varied_history(CUSTOMERS), store, pool)
    memory = MemoryAnalyticsQueries(await project_in_memory(await copy_to_memory(store)))
    postgres = PostgresAnalyticsQueries(pool)
    now = T0 + days(1)

    for tenant in ("acme", "other", "nobody"):
        for rules in RULES:
            for customer in [*CUSTOMERS, uuid.uuid4()]:
                expected = await memory.customer_analytics(tenant, customer, rules, now)
                assert await postgres.customer_analytics(tenant, customer, rules, now) == expected
            expected_board = await memory.customers_dashboard(tenant, rules, now)
            assert await postgres.customers_dashboard(tenant, rules, now) == expected_board
        for currency in ("USD", "EUR"):
            for start, end in RANGES:
                expected_orders = await memory.orders_dashboard(tenant, currency, start, end)
                got = await postgres.orders_dashboard(tenant, currency, start, end)
                assert got == expected_orders
                for group_by in GroupBy:
                    expected_report = await memory.attribution(
                        tenant, currency, start, end, group_by
                    )
                    report = await postgres.attribution(tenant, currency, start, end, group_by)
                    assert report == expected_report


async def test_postgres_answers_the_known_figures(
    pool: asyncpg.Pool, store: PostgresEventStore
) -> None:
    shop = varied_history(CUSTOMERS)
    await project_into_postgres(shop, store, pool)
    queries = PostgresAnalyticsQueries(pool)

    first = await queries.customer_analytics("acme", CUSTOMERS[0], SegmentRules(), T0)
    board = await queries.orders_dashboard("acme", "USD", *RANGES[0])
    customers = await queries.customers_dashboard("acme", SegmentRules(), T0)

    tied = [
        a
        for a, tenant in shop.aggregates
        if isinstance(a, Order) and tenant == "acme" and a.customer_id == CUSTOMERS[0]
        if a.currency == "USD" and a.paid.amount > 0
    ]
    assert len({o.created_at for o in tied}) == 1
    smaller = min(tied, key=lambda o: o.id)
    assert first.first_order_total == smaller.totals.total.amount  # same instant: smaller id
    assert first.total_orders == 2  # its own first order was declined
    assert min(board.orders, board.payment_attempts, board.refunds, board.paid_orders) > 0
    assert min(customers.customers, sum(c.customers for c in customers.cohorts)) > 0


async def test_queries_before_the_projections_ran_find_nothing(pool: asyncpg.Pool) -> None:
    queries = PostgresAnalyticsQueries(pool)

    analytics = await queries.customer_analytics("acme", CUSTOMERS[0], SegmentRules(), T0)
    board = await queries.orders_dashboard("acme", "USD", *RANGES[1])
    customers = await queries.customers_dashboard("acme", SegmentRules(), T0)

    report = await queries.attribution("acme", "USD", *RANGES[1], GroupBy.CHANNEL)
    assert (analytics.total_orders, board.orders, customers.customers) == (0, 0, 0)
    assert report.groups == []
    assert len(board.by_day) == 31
