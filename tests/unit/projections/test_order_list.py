"""The order list projection: one row per order, kept in step with its events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.order_queries import MemoryOrderQueries
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.eventstore import EventMetadata, Repository
from commerce_core.ordering.order import LineSpec, Order, price_order
from commerce_core.ordering.ports.order_queries import OrderFilters
from commerce_core.projections.order_list import OrderList
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.money import Money
from commerce_core.shared.values import OrderNumber, Sku

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
CUSTOMER = uuid.uuid4()


def placed(n: int, customer: uuid.UUID = CUSTOMER, tenant: str = "acme") -> Order:
    priced = price_order(
        [LineSpec(sku=Sku("MUG-1"), name="Mug", quantity=n, unit_price=Money(1000, "USD"))],
        "USD",
        shipping=Money(500, "USD"),
    )
    return Order.place(
        id=uuid.uuid4(),
        tenant_id=tenant,
        number=OrderNumber(f"ORD-{n:06d}"),
        customer_id=customer,
        priced=priced,
        at=T0 + timedelta(minutes=n),
    )


async def project(*orders: Order) -> MemoryOrderQueries:
    store = MemoryEventStore()
    repo = Repository(store)
    for order in orders:
        await repo.save(order, metadata=EventMetadata(tenant_id=order.tenant_id))
    read_model = MemoryReadModel()
    async with ProjectionRunner(store, read_model, [OrderList()]) as runner:
        await runner.wait_for("order_list", await store.head())
    return MemoryOrderQueries(read_model)


async def test_a_placed_order_is_listed_with_its_totals() -> None:
    order = placed(2)
    queries = await project(order)

    page = await queries.list_orders("acme", OrderFilters(), 50, None)

    [row] = page.items
    assert (row.id, row.number, row.status, row.total, row.paid) == (
        order.id,
        "ORD-000002",
        "pending_payment",
        2500,
        0,
    )
    assert row.created_at == T0 + timedelta(minutes=2)
    assert page.next_cursor is None


async def test_payments_refunds_and_status_changes_follow_the_order() -> None:
    order = placed(1)
    order.mark_paid(Money(1500, "USD"), uuid.uuid4(), T0 + timedelta(hours=1))
    order.record_refund(Money(400, "USD"), T0 + timedelta(hours=2))
    queries = await project(order)

    [row] = (await queries.list_orders("acme", OrderFilters(), 50, None)).items

    assert (row.status, row.paid, row.refunded) == ("partially_refunded", 1500, 400)
    assert row.updated_at == T0 + timedelta(hours=2)


async def test_lists_newest_first_in_pages_filtered_and_per_tenant() -> None:
    other_customer = uuid.uuid4()
    orders = [placed(n, other_customer if n % 2 else CUSTOMER) for n in range(1, 8)]
    orders[0].cancel("changed mind", T0 + timedelta(hours=1))
    queries = await project(*orders, placed(9, tenant="other"))

    first = await queries.list_orders("acme", OrderFilters(), 3, None)
    assert [o.number for o in first.items] == ["ORD-000007", "ORD-000006", "ORD-000005"]
    second = await queries.list_orders("acme", OrderFilters(), 3, first.next_cursor)
    third = await queries.list_orders("acme", OrderFilters(), 3, second.next_cursor)
    assert [o.number for o in second.items + third.items] == [
        "ORD-000004",
        "ORD-000003",
        "ORD-000002",
        "ORD-000001",
    ]
    assert third.next_cursor is None

    mine = await queries.list_orders("acme", OrderFilters(customer_id=CUSTOMER), 50, None)
    assert [o.number for o in mine.items] == ["ORD-000006", "ORD-000004", "ORD-000002"]
    cancelled = await queries.list_orders("acme", OrderFilters(status="cancelled"), 50, None)
    assert [o.number for o in cancelled.items] == ["ORD-000001"]
    window = OrderFilters(
        created_from=T0 + timedelta(minutes=2), created_to=T0 + timedelta(minutes=4)
    )
    assert [o.number for o in (await queries.list_orders("acme", window, 50, None)).items] == [
        "ORD-000003",
        "ORD-000002",
    ]
    others = await queries.list_orders("other", OrderFilters(), 50, None)
    assert [o.number for o in others.items] == ["ORD-000009"]
