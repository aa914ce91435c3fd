"""An order's life across streams, for the replay tests: stock, payments, a refund, a shipment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from commerce_core.eventstore import EventMetadata, Repository
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.inventory.locations import SkuLocations
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import LineSpec, Order, price_order
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.shared.money import Money
from commerce_core.shared.values import OrderNumber, Sku

TENANT = "tenant-a"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
MUG = Sku("MUG-1")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, minutes: int) -> datetime:
        self.now = T0 + timedelta(minutes=minutes)
        return self.now


@dataclass
class Story:
    repo: Repository
    clock: Clock
    order_id: uuid.UUID
    payment_id: uuid.UUID
    failed_payment_id: uuid.UUID
    shipment_id: uuid.UUID
    other_order_id: uuid.UUID


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def meta(actor: str, correlation: str, tenant: str = TENANT) -> EventMetadata:
    return EventMetadata(
        tenant_id=tenant, actor=actor, correlation_id=correlation, causation_id=f"c-{correlation}"
    )


def place(order_id: uuid.UUID, number: str, at: datetime, tenant: str = TENANT) -> Order:
    priced = price_order(
        [LineSpec(sku=MUG, name="Mug", quantity=2, unit_price=usd(1000), tax_rate_bps=0)],
        "USD",
    )
    return Order.place(
        id=order_id,
        tenant_id=tenant,
        number=OrderNumber(number),
        customer_id=uuid.uuid4(),
        priced=priced,
        at=at,
    )


async def tell_story(repo: Repository, clock: Clock, tenant: str = TENANT) -> Story:
    """Stock received; an order placed (reserving stock) next to another order; a
    declined payment; a paid one (stock committed); a refund; a shipment."""
    ids = Story(repo, clock, *(uuid.uuid4() for _ in range(5)))
    at = clock.at(0)
    stock = StockItem.create(tenant, MUG, at)
    stock.receive(10, at)
    locations = SkuLocations(tenant_id=tenant, sku=MUG)
    locations.add("default")
    await repo.save(stock, locations, metadata=meta("ops", "receive", tenant))

    at = clock.at(1)
    order = place(ids.order_id, "ORD-000001", at, tenant)
    ledger = OrderLedger.start(tenant, ids.order_id)
    stock.reserve(ids.order_id, 2, at + timedelta(minutes=30), at)
    await repo.save(order, ledger, stock, metadata=meta("key:1", "place", tenant))

    at = clock.at(2)
    other = place(ids.other_order_id, "ORD-000002", at, tenant)
    stock.reserve(ids.other_order_id, 2, at + timedelta(minutes=30), at)
    await repo.save(other, stock, metadata=meta("key:1", "place-other", tenant))

    at = clock.at(3)
    declined = Payment.create(ids.failed_payment_id, tenant, ids.order_id, usd(2000), FEES, at)
    declined.fail("card_declined", at, "pi_1")
    ledger.add_payment(ids.failed_payment_id)
    order.mark_payment_failed("card_declined", at, ids.failed_payment_id)
    await repo.save(declined, ledger, order, metadata=meta("key:1", "pay-1", tenant))

    at = clock.at(4)
    payment = Payment.create(ids.payment_id, tenant, ids.order_id, usd(2000), FEES, at)
    payment.charge("pi_2", at)
    ledger.add_payment(ids.payment_id)
    order.mark_paid(usd(2000), ids.payment_id, at)
    stock.commit(ids.order_id, at)
    await repo.save(payment, ledger, order, stock, metadata=meta("key:1", "pay-2", tenant))

    at = clock.at(5)
    refund_id = uuid.uuid4()
    payment.refund(refund_id, usd(500), at, reason="chipped")
    payment.confirm_refund(refund_id, "re_1", at)
    order.record_refund(usd(500), at, refund_id)
    await repo.save(payment, order, metadata=meta("key:2", "refund", tenant))

    at = clock.at(6)
    shipment = Shipment.create(
        id=ids.shipment_id,
        tenant_id=tenant,
        order_id=ids.order_id,
        lines=order.lines_to_ship(),
        carrier="ups",
        at=at,
    )
    order.record_shipment(ids.shipment_id, None, at)
    await repo.save(shipment, order, metadata=meta("key:2", "ship", tenant))
    return ids


FEES = FeeSchedule(basis_points=0)
