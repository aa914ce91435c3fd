"""Order attribution: orders, revenue, average order value and refund rate per UTM source,
medium, campaign or sales channel, from the ``order_attribution`` projection."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.analytics_queries import MemoryAnalyticsQueries
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.eventstore import EventMetadata, Repository
from commerce_core.ordering.order import (
    Attribution,
    Channel,
    DisputeOutcome,
    ImportChannel,
    ImportedFrom,
    LineSpec,
    Order,
    price_order,
)
from commerce_core.projections.attribution import OrderAttribution
from commerce_core.projections.attribution_report import (
    NONE_GROUP,
    AttributionGroup,
    GroupBy,
    GroupSums,
    attribution_report,
)
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import Sku, format_order_number
from tests.unit.projections.shop import T0, days

MAY_4, MAY_6 = date(2026, 5, 4), date(2026, 5, 6)


class History:
    def __init__(self) -> None:
        self.orders: list[tuple[Order, str]] = []

    def order(
        self,
        total: int,
        at: datetime,
        *,
        source: str | None = None,
        campaign: str | None = None,
        channel: Channel = Channel.WEB,
        imported: ImportChannel | None = None,
        placed_at: datetime | None = None,
        tenant: str = "acme",
        currency: str = "USD",
        paid: bool = True,
    ) -> Order:
        unit = Money(total, currency)
        priced = price_order(
            [LineSpec(sku=Sku("A-1"), name="A", quantity=1, unit_price=unit)], currency
        )
        order = Order.place(
            id=uuid.uuid4(),
            tenant_id=tenant,
            number=format_order_number(len(self.orders) + 1),
            customer_id=uuid.uuid4(),
            priced=priced,
            at=at,
            channel=channel,
            attribution=None
            if source is None and campaign is None
            else Attribution(source=source, campaign=campaign),
            imported=None
            if imported is None
            else ImportedFrom(
                channel=imported,
                external_id="X-1",
                placed_at=placed_at or at,
                digest="d",
                request_id="r",
            ),
        )
        if paid:
            order.mark_paid(order.outstanding, uuid.uuid4(), at)
        self.orders.append((order, tenant))
        return order

    async def queries(self) -> MemoryAnalyticsQueries:
        store = MemoryEventStore()
        repository = Repository(store)
        for order, tenant in self.orders:
            await repository.save(order, metadata=EventMetadata(tenant_id=tenant))
        read_model = MemoryReadModel()
        async with ProjectionRunner(store, read_model, [OrderAttribution()]) as runner:
            await runner.wait_for(OrderAttribution.name, await store.head())
        return MemoryAnalyticsQueries(read_model)


def seeded() -> History:
    """Google ads, a newsletter, unattributed web orders, an Etsy import and a GBP order."""
    h = History()
    h.order(4_000, T0, source="google", campaign="spring")
    h.order(6_000, T0 + days(1), source="google", campaign="summer")
    refunded = h.order(2_000, T0, source="newsletter", campaign="spring")
    refunded.record_refund(Money(500, "USD"), T0 + days(1))
    h.order(1_000, T0)  # no attribution: "(none)"
    h.order(3_000, T0, paid=False)  # placed, never paid: counted, no revenue
    h.order(5_000, T0 + days(10), source="etsy", imported=ImportChannel.ETSY, placed_at=T0)
    h.order(7_000, T0, channel=Channel.GBP)
    h.order(99_000, T0, source="google", tenant="other")
    h.order(8_000, T0, source="google", currency="EUR")
    h.order(9_000, T0 - days(30), source="google")  # before the range
    return h


def by_group(groups: list[AttributionGroup]) -> dict[str, tuple[int, int, int, float]]:
    return {g.group: (g.orders, g.revenue, g.average_order_value, g.refund_rate) for g in groups}


async def test_orders_are_grouped_by_their_utm_source() -> None:
    queries = await seeded().queries()

    report = await queries.attribution("acme", "USD", MAY_4, MAY_6, GroupBy.SOURCE)

    assert by_group(report.groups) == {
        "google": (2, 10_000, 5_000, 0.0),
        NONE_GROUP: (3, 8_000, 4_000, 0.0),
        "etsy": (1, 5_000, 5_000, 0.0),
        "newsletter": (1, 1_500, 1_500, 0.25),
    }
    assert [g.group for g in report.groups] == ["google", NONE_GROUP, "etsy", "newsletter"]
    assert (report.orders, report.revenue) == (7, 24_500)


async def test_orders_are_grouped_by_campaign_and_by_sales_channel() -> None:
    queries = await seeded().queries()

    campaigns = await queries.attribution("acme", "USD", MAY_4, MAY_6, GroupBy.CAMPAIGN)
    channels = await queries.attribution("acme", "USD", MAY_4, MAY_6, GroupBy.CHANNEL)

    assert {g.group: g.orders for g in campaigns.groups} == {
        "spring": 2,
        "summer": 1,
        NONE_GROUP: 4,
    }
    assert {g.group: (g.orders, g.revenue) for g in channels.groups} == {
        "web": (5, 12_500),
        "etsy": (1, 5_000),
        "gbp": (1, 7_000),
    }


async def test_an_imported_order_counts_on_the_day_the_channel_took_it() -> None:
    queries = await seeded().queries()

    later = await queries.attribution(
        "acme",
        "USD",
        T0.date() + timedelta(days=10),
        T0.date() + timedelta(days=10),
        GroupBy.CHANNEL,
    )

    assert later.groups == []


async def test_a_lost_dispute_counts_as_money_given_back() -> None:
    h = History()
    order = h.order(4_000, T0, source="google")
    order.open_dispute("fraud", T0)
    order.close_dispute(DisputeOutcome.LOST, T0 + days(1))
    queries = await h.queries()

    report = await queries.attribution("acme", "USD", MAY_4, MAY_6, GroupBy.SOURCE)

    assert by_group(report.groups) == {"google": (1, 0, 0, 1.0)}


async def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    queries = await History().queries()

    with pytest.raises(InvalidValueError):
        await queries.attribution("acme", "USD", MAY_6, MAY_4, GroupBy.SOURCE)


sums = st.builds(
    GroupSums,
    group=st.sampled_from([None, NONE_GROUP, "google", "bing"]),
    orders=st.integers(1, 50),
    paid_orders=st.integers(0, 50),
    paid=st.integers(0, 10**9),
    refunded=st.integers(0, 10**9),
)


@settings(max_examples=60)
@given(st.lists(sums, max_size=8))
def test_the_groups_add_up_to_the_totals_and_name_each_group_once(parts: list[GroupSums]) -> None:
    report = attribution_report("USD", MAY_4, MAY_6, GroupBy.SOURCE, parts)

    names = [g.group for g in report.groups]
    assert len(names) == len(set(names))
    assert set(names) == {p.group or NONE_GROUP for p in parts}
    assert report.orders == sum(p.orders for p in parts)
    assert report.revenue == sum(p.paid - p.refunded for p in parts)
    assert [g.revenue for g in report.groups] == sorted(
        (g.revenue for g in report.groups), reverse=True
    )
