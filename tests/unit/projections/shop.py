"""A little shop's history (orders and payments of several tenants) for the analytics tests.

The same history is projected into memory (unit tests) and into PostgreSQL
(integration tests), so both query adapters answer the same questions.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from eventsourcing.domain import Aggregate

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.eventstore import (
    START,
    AppendStream,
    EventMetadata,
    EventStore,
    NewEvent,
    Repository,
)
from commerce_core.ordering.order import Channel, DisputeOutcome, LineSpec, Order, price_order
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.projections import Projection
from commerce_core.projections.analytics import OrderAnalytics
from commerce_core.projections.attribution import OrderAttribution
from commerce_core.projections.customer_metrics import CustomerMetricsProjection
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.money import Money
from commerce_core.shared.values import Sku, format_order_number

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def analytics_projections() -> list[Projection]:
    return [CustomerMetricsProjection(), OrderAnalytics(), OrderAttribution()]


class Shop:
    """Records orders and payments; ``save`` appends them all to an event store."""

    def __init__(self) -> None:
        self.aggregates: list[tuple[Aggregate, str]] = []  # with their tenants
        self._numbers = 0

    def order(
        self,
        customer: uuid.UUID,
        total: int,
        at: datetime,
        *,
        tenant: str = "acme",
        currency: str = "USD",
        channel: Channel = Channel.WEB,
    ) -> Order:
        """A new order of one line costing ``total``, awaiting payment."""
        self._numbers += 1
        priced = price_order(
            [
                LineSpec(
                    sku=Sku("ITEM-1"), name="Item", quantity=1, unit_price=Money(total, currency)
                )
            ],
            currency,
        )
        order = Order.place(
            id=uuid.uuid4(),
            tenant_id=tenant,
            number=format_order_number(self._numbers),
            customer_id=customer,
            priced=priced,
            at=at,
            channel=channel,
        )
        self.aggregates.append((order, tenant))
        return order

    def paid(
        self,
        customer: uuid.UUID,
        total: int,
        at: datetime,
        *,
        tenant: str = "acme",
        currency: str = "USD",
        channel: Channel = Channel.WEB,
    ) -> Order:
        """A new order, paid in full when placed."""
        order = self.order(customer, total, at, tenant=tenant, currency=currency, channel=channel)
        order.mark_paid(order.outstanding, uuid.uuid4(), at)
        return order

    def attempt(self, order: Order, at: datetime, *, declined: bool = False) -> Payment:
        """A payment attempt for ``order`` that the gateway authorizes or declines."""
        amount, free = order.totals.total, FeeSchedule(basis_points=0)
        payment = Payment.create(uuid.uuid4(), order.tenant_id, order.id, amount, free, at)
        if declined:
            payment.fail("card_declined", at)
        else:
            payment.authorize("pi_test", at)
        self.aggregates.append((payment, order.tenant_id))
        return payment

    async def save(self, store: EventStore) -> None:
        repository = Repository(store)
        for aggregate, tenant in self.aggregates:
            await repository.save(aggregate, metadata=EventMetadata(tenant_id=tenant))

    async def project_in_memory(self) -> MemoryReadModel:
        """Saves the history (once: saving takes the aggregates' new events) and projects it."""
        store = MemoryEventStore()
        await self.save(store)
        return await project_in_memory(store)


async def project_in_memory(store: MemoryEventStore) -> MemoryReadModel:
    read_model = MemoryReadModel()
    async with ProjectionRunner(store, read_model, analytics_projections()) as runner:
        head = await store.head()
        for projection in analytics_projections():
            await runner.wait_for(projection.name, head)
    return read_model


async def copy_to_memory(source: EventStore) -> MemoryEventStore:
    """A memory event store holding the same events as ``source``, in the same order."""
    copy = MemoryEventStore()
    for event in await source.read_all(START, limit=1_000_000):
        stream = AppendStream(
            event.stream_id, event.version - 1, [NewEvent(event.event_id, event.type, event.data)]
        )
        await copy.append([stream], event.metadata)
    return copy


def varied_history(customers: list[uuid.UUID]) -> Shop:
    """Orders of every kind for ``customers`` over eight months, in two currencies and tenants.

    Two of the first customer's orders are placed at the same instant, so the
    "first order" tie-break (the smaller order id) matters.
    """
    shop = Shop()
    start = T0 - days(200)
    for n, customer in enumerate(customers):
        for k in range(n % 4 + 1):
            at = start + days(23 * k + 7 * n)
            order = shop.order(customer, 2_000 + 1_500 * k + 10 * n, at, channel=list(Channel)[k])
            shop.attempt(order, at, declined=(n + k) % 5 == 0)
            if (n + k) % 5 == 0:
                order.mark_payment_failed("declined", at)
                continue
            if (n + k) % 7 == 3:
                continue  # still awaiting payment
            order.mark_paid(order.outstanding, uuid.uuid4(), at + days(k % 2))
            if k == 1:
                order.record_refund(Money(500, "USD"), at + days(3))
            if (n + k) % 6 == 4:
                order.open_dispute("fraudulent", at + days(4))
                order.close_dispute(DisputeOutcome.LOST, at + days(5))
    first = customers[0]
    shop.paid(first, 12_345, start)
    shop.paid(first, 54_321, start)
    shop.paid(first, 7_000, T0 - days(2), currency="EUR")
    shop.paid(first, 8_000, T0 - days(2), tenant="other")
    return shop
