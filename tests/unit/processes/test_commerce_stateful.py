"""Random command sequences across orders, payments, stock and gateway events keep the books.

After every step, from the event store alone:
- money is conserved: each order's ``paid`` and ``refunded`` are the sums of its
  payments' captured and refunded amounts (so paid - refunded is the net
  received), ``refunded <= paid <= total``, and every payment has
  ``refunded + pending refunds <= captured <= authorized``; the gateway's books
  agree with ours for every payment whose news has reached us;
- stock: on hand is never negative, ``reserved + available = on hand``, and on
  hand is what was received, less what paid (or shipped cash-on-delivery) orders
  took, plus what was put back; a cancelled order holds nothing; a
  cash-on-delivery order holds all its units until it ships, however late;
- cash on delivery: only such an order ships unpaid, and a delivered order is
  paid in full (each delivery records its parcel's cash once);
- every status an order or payment went through is allowed by its table;
- every aggregate rebuilt from its events, and from a snapshot, is the same,
  and the same as the one the command returned;
- a refused command appended nothing (one the gateway refused appended its intent and
  the refusal, as a declined payment does);
- concurrent clients (two commands at once, interleaving at every read) never take
  money twice or lose it: every payment the gateway holds is recorded or has its
  intent open; no order is both shipped and cancelled; after a round of recovery no
  intent is left open and the gateway's books equal ours (ADR 0016).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from adapters.memory.readmodel import MemoryReadModel
from commerce_core.effects.open_effects import OpenEffects
from commerce_core.effects.recovery import GRACE, recover_effects
from commerce_core.eventstore import START, ConcurrencyError, EventMapper
from commerce_core.fulfilment.shipment import TRACKING_UPDATES, ShipmentStatus
from commerce_core.inventory.services import ReceiveStock, receive_stock
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import SYSTEM, TRANSITIONS, Order, OrderStatus
from commerce_core.ordering.services import CustomerRef
from commerce_core.payments.payment import (
    ALLOWED_TRANSITIONS,
    Payment,
    PaymentDeclinedError,
    PaymentStatus,
)
from commerce_core.payments.ports.gateway import GatewayRequestError, GatewayStatus
from commerce_core.payments.ports.webhooks import GatewayEvent, GatewayEventKind
from commerce_core.payments.services import order_payments
from commerce_core.payments.webhooks.events import record_gateway_event
from commerce_core.processes.cash_on_delivery import collection_id
from commerce_core.processes.manual_payments import ManualReceipt, record_manual_payment
from commerce_core.processes.order_jobs import auto_cancel_unpaid, expire_order_reservations
from commerce_core.processes.order_status import change_order_status
from commerce_core.processes.shipping import (
    CarrierUpdate,
    CreateShipment,
    create_shipment,
    record_shipment_event,
)
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError
from commerce_core.shared.money import Money
from commerce_core.shared.values import PaymentMethod, Sku, SkuQuantity
from tests.unit.effects.test_recovery import recovery_services
from tests.unit.shop import FEES, STAFF, TENANT, Shop

pytestmark = pytest.mark.slow  # a hypothesis state machine over the whole service

T = TypeVar("T")
SKUS = {"MUG-1": 1000, "TEE-M": 2500}
JOB = CommandContext(tenant_id=TENANT, actor=SYSTEM)
KINDS = {
    GatewayStatus.CAPTURED: GatewayEventKind.PAYMENT_SUCCEEDED,
    GatewayStatus.AUTHORIZED: GatewayEventKind.PAYMENT_AUTHORIZED,
    GatewayStatus.FAILED: GatewayEventKind.PAYMENT_FAILED,
}

order_lines = st.lists(
    st.tuples(st.sampled_from(sorted(SKUS)), st.integers(1, 3)),
    min_size=1,
    max_size=2,
    unique_by=lambda line: line[0],
)
amounts = st.none() | st.integers(1, 9000)
rarely = st.integers(0, 3).map(lambda n: n == 0)


def state(aggregate: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


class CommerceMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    payments = Bundle("payments")
    shipments = Bundle("shipments")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.shop = Shop()
        self.mapper = EventMapper()
        self.received: defaultdict[str, int] = defaultdict(int)
        for sku, price in SKUS.items():
            self.run(self.shop.product(sku, price, stock=3))
            self.received[sku] += 3
        self.customer = CustomerRef(id=self.run(self.shop.customer()))
        self.live: dict[UUID, Aggregate] = {}
        self.unreported: set[UUID] = set()  # completed at the gateway, webhook not delivered
        self.flagged: set[UUID] = set()  # orders an outcome asked an operator to look at
        self.webhooks = itertools.count(1)
        self.rebuilt: dict[UUID, Any] = {}  # every aggregate, replayed from the store
        self.changed: set[UUID] = set()
        self.seen = START

    def teardown(self) -> None:
        self.loop.close()

    def run(self, step: Awaitable[T]) -> T:
        return self.loop.run_until_complete(step)

    def attempt(self, command: Callable[[], Awaitable[T]]) -> T | None:
        """Runs a command; a refusal must have appended nothing."""
        before = len(self.run(self.shop.events()))
        try:
            done = self.run(command())
        except PaymentDeclinedError:
            event("declined")  # recorded, then refused: appends by design
            return None
        except GatewayRequestError:
            event("refused by the gateway")  # its intent and the refusal: appends by design
            return None
        except DomainError as error:
            refused: Exception = error
        else:
            event(f"done: {inspect.stack()[1].function}")
            return done
        event(f"refused: {inspect.stack()[1].function}: {type(refused).__name__}")
        assert len(self.run(self.shop.events())) == before, f"{refused!r} appended"
        return None

    def keep(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            self.live[aggregate.id] = aggregate

    # Orders and stock

    @initialize(
        target=orders, lines=order_lines, method=st.sampled_from([None, "cash_on_delivery"])
    )
    def first_order(self, lines: list[tuple[str, int]], method: str | None) -> Any:
        return self.place(lines, 30, method)

    @rule(
        target=orders,
        lines=order_lines,
        minutes=st.sampled_from([5, 30]),
        method=st.sampled_from([None, "card", "cash_on_delivery"]),
    )
    def place(self, lines: list[tuple[str, int]], minutes: int, method: str | None) -> Any:
        order = self.attempt(
            lambda: self.shop.place(
                *lines, customer=self.customer, reservation_minutes=minutes, payment_method=method
            )
        )
        if order is None:
            return multiple()
        self.keep(order)
        return order.id

    @rule(sku=st.sampled_from(sorted(SKUS)), quantity=st.integers(1, 4))
    def receive(self, sku: str, quantity: int) -> None:
        receipt = ReceiveStock(sku=sku, quantity=quantity)
        self.run(receive_stock(self.shop.repo, self.shop.clock, STAFF, receipt))
        self.received[sku] += quantity

    @rule(minutes=st.sampled_from([1, 10, 31, 60 * 25, 60 * 24 * 8]))
    def advance_clock(self, minutes: int) -> None:
        self.shop.clock.advance(timedelta(minutes=minutes))

    @rule(order_id=orders)
    def expire(self, order_id: UUID) -> None:
        self.attempt(
            lambda: expire_order_reservations(self.shop.repo, self.shop.clock, JOB, order_id)
        )

    # Cancelling ends the interesting part of an order's life, so it acts on one draw in
    # four only; the other rules get further.
    @rule(order_id=orders, hours=st.sampled_from([1, 24]), now=rarely)
    def auto_cancel(self, order_id: UUID, hours: int, now: bool) -> None:
        if not now:
            return
        shop = self.shop
        self.attempt(lambda: auto_cancel_unpaid(shop.payment_services, JOB, order_id, hours))

    @rule(order_id=orders, now=rarely)
    def cancel(self, order_id: UUID, now: bool) -> None:
        if not now:
            return
        order = self.attempt(lambda: self.shop.cancel(order_id))
        if order is not None:
            event(f"cancelled with {order.refunded} refunded")
            self.keep(order)

    @rule(target=shipments, order_id=orders, one=st.none() | st.sampled_from(sorted(SKUS)))
    def ship(self, order_id: UUID, one: str | None = None) -> Any:
        """Ships all that is left, or one unit of ``one``."""
        shop = self.shop
        lines = None if one is None else [SkuQuantity(Sku(one), 1)]
        command = CreateShipment(carrier="ups", tracking_number="1Z", lines=lines)
        shipment = self.attempt(
            lambda: create_shipment(shop.shipping_services, STAFF, order_id, command)
        )
        return multiple() if shipment is None else shipment.id

    @rule(order_id=orders)
    def confirm(self, order_id: UUID) -> None:
        shop = self.shop
        self.attempt(
            lambda: change_order_status(
                shop.payment_services, STAFF, order_id, OrderStatus.PROCESSING
            )
        )

    @rule(
        shipment_id=shipments,
        status=st.sampled_from([ShipmentStatus.DELIVERED, *sorted(TRACKING_UPDATES)]),
    )
    def track(self, shipment_id: UUID, status: ShipmentStatus) -> None:
        shop = self.shop
        self.attempt(
            lambda: record_shipment_event(
                shop.shipping_services, STAFF, shipment_id, CarrierUpdate(status=status), FEES
            )
        )

    @rule(order_id=orders, shipment_id=st.none() | shipments)
    def cash_by_hand(self, order_id: UUID, shipment_id: UUID | None) -> None:
        """Cash at the counter, or a parcel's cash reported by its courier."""
        shop = self.shop
        receipt = ManualReceipt(method=PaymentMethod.CASH_ON_DELIVERY, shipment_id=shipment_id)
        self.attempt(
            lambda: record_manual_payment(
                shop.manual_payment_services, STAFF, order_id, receipt, FEES
            )
        )

    # Payments

    @rule(
        target=payments,
        order_id=orders,
        token=st.sampled_from(["tok_visa", "tok_visa", "tok_declined", "tok_3ds"]),
        at_once=st.booleans(),
    )
    def pay(self, order_id: UUID, token: str, at_once: bool) -> Any:
        pay = self.shop.charge if at_once else self.shop.authorize
        result = self.attempt(lambda: pay(order_id, token))
        if result is None:
            return multiple()
        self.keep(result.payment)
        return result.payment.id

    @rule(payment_id=payments, amount=amounts)
    def capture(self, payment_id: UUID, amount: int | None) -> None:
        result = self.attempt(lambda: self.shop.capture(payment_id, amount))
        if result is not None:
            self.keep(result.payment)

    @rule(payment_id=payments)
    def void(self, payment_id: UUID) -> None:
        payment = self.attempt(lambda: self.shop.void(payment_id))
        if payment is not None:
            self.keep(payment)

    @rule(payment_id=payments, amount=st.integers(1, 9000))
    def refund_payment(self, payment_id: UUID, amount: int) -> None:
        self.attempt(lambda: self.shop.refund_payment(payment_id, amount))

    @rule(order_id=orders, amount=amounts, restock=st.booleans())
    def refund_order(self, order_id: UUID, amount: int | None, restock: bool) -> None:
        self.attempt(lambda: self.shop.refund_order(order_id, amount, restock=restock))

    @rule(order_id=orders)
    def next_happy_step(self, order_id: UUID) -> None:
        """Pays an unpaid order (capturing an open authorization first), ships a paid one;
        ships a cash-on-delivery order unpaid and delivers its parcels."""
        order = self.run(self.shop.order(order_id))
        if order.status is OrderStatus.PAID or (
            order.is_cash_on_delivery and not order.is_fully_shipped
        ):
            self.ship(order_id)
            return
        if order.is_cash_on_delivery:
            for shipment_id in order.shipment_ids:
                self.track(shipment_id, ShipmentStatus.DELIVERED)
            return
        payments = self.run(order_payments(self.shop.repo, TENANT, order_id))
        for payment in payments:
            if payment.status is PaymentStatus.AUTHORIZED:
                self.capture(payment.id, None)
                return
        self.pay(order_id, "tok_visa", at_once=False)

    # The gateway's side: the customer finishes 3-D Secure, webhooks arrive (maybe twice)

    @rule(
        target=payments,
        order_id=orders,
        at_once=st.booleans(),
        success=st.booleans(),
        report=st.booleans(),
    )
    def pay_with_3ds(self, order_id: UUID, at_once: bool, success: bool, report: bool) -> Any:
        """The customer pays, authenticates, and the gateway's webhook arrives (or not yet)."""
        payment_id = self.pay(order_id, "tok_3ds", at_once)
        if isinstance(payment_id, UUID):
            self.complete_3ds(payment_id, success)
            if report:
                self.deliver_webhook(payment_id, twice=False)
        return payment_id

    @rule(payment_id=payments, success=st.booleans())
    def complete_3ds(self, payment_id: UUID, success: bool) -> None:
        payment = self.run(self.shop.payment(payment_id))
        try:
            self.shop.gateway.complete_authentication(payment.gateway_payment_id or "", success)
        except GatewayRequestError:
            return
        self.unreported.add(payment_id)

    @rule(payment_id=payments, twice=st.booleans())
    def deliver_webhook(self, payment_id: UUID, twice: bool) -> None:
        payment = self.run(self.shop.payment(payment_id))
        view = self.run(self.shop.gateway.retrieve(payment.gateway_payment_id or ""))
        kind = KINDS.get(view.status)
        if kind is None:
            return
        webhook = GatewayEvent(
            id=f"evt_{next(self.webhooks)}",
            kind=kind,
            gateway="fake",
            gateway_payment_id=view.gateway_payment_id,
            amount=view.captured,
            gateway_fee=view.gateway_fee,
            code=view.decline_code,
        )
        for _ in range(2 if twice else 1):
            outcome = self.run(record_gateway_event(self.shop.repo, self.shop.clock, JOB, webhook))
            event(f"webhook {kind} applied: {outcome.applied}")
            if outcome.attention:
                self.flagged.add(outcome.payment.order_id)
        self.unreported.discard(payment_id)

    # Concurrent clients, lost answers and recovery (ADR 0016)

    @rule(
        order_id=orders,
        pair=st.sampled_from(
            ["charge+charge", "charge+authorize", "cancel+ship", "cancel+charge", "ship+refund"]
        ),
    )
    def race(self, order_id: UUID, pair: str) -> None:
        """Two commands on one order at once; each may win or be refused."""
        shop = self.shop
        ship = CreateShipment(carrier="ups", tracking_number="1Z")
        commands: dict[str, Callable[[], Awaitable[object]]] = {
            "charge": lambda: shop.charge(order_id),
            "authorize": lambda: shop.authorize(order_id),
            "cancel": lambda: shop.cancel(order_id),
            "ship": lambda: create_shipment(shop.shipping_services, STAFF, order_id, ship),
            "refund": lambda: shop.refund_order(order_id, None),
        }
        self.together(*(commands[name] for name in pair.split("+")))

    @rule(payment_id=payments, amount=st.integers(1, 3000), what=st.sampled_from(["cap", "ref"]))
    def race_on_payment(self, payment_id: UUID, amount: int, what: str) -> None:
        """Two partial captures, or two partial refunds, of one payment at once."""
        shop = self.shop
        if what == "cap":
            self.together(*[lambda: shop.capture(payment_id, amount)] * 2)
        else:
            self.together(*[lambda: shop.refund_payment(payment_id, amount)] * 2)

    @rule(order_id=orders, lost=st.integers(1, 3))
    def pay_with_lost_answers(self, order_id: UUID, lost: int) -> None:
        """The gateway acts but its answers are lost: the payment may stay pending."""
        self.shop.gateway.lose_answers(lost)
        self.together(lambda: self.shop.charge(order_id))
        self.shop.gateway.lose_answers(0)

    @rule()
    def recover(self) -> None:
        """A round of recovery after the grace: no intent stays open."""
        self.shop.clock.advance(GRACE + timedelta(seconds=1))
        self.run(self.recovered())

    async def recovered(self) -> None:
        read_model = MemoryReadModel()
        async with ProjectionRunner(self.shop.store, read_model, [OpenEffects()]) as runner:
            await runner.wait_for("open_effects", await self.shop.store.head())
            done = await recover_effects(recovery_services(self.shop, read_model))
        event(f"recovered {done.looked_at} intents")
        assert done.still_open == 0

    def together(self, *commands: Callable[[], Awaitable[object]]) -> None:
        async def both() -> list[object]:
            self.shop.store.yield_on_read = True
            try:
                return await asyncio.gather(*(c() for c in commands), return_exceptions=True)
            finally:
                self.shop.store.yield_on_read = False

        for outcome in self.run(both()):
            if isinstance(outcome, BaseException) and not isinstance(
                outcome, DomainError | GatewayRequestError | ConcurrencyError
            ):
                raise outcome
            event(f"together: {type(outcome).__name__}")

    # What must hold after every step

    @invariant()
    def the_books_balance(self) -> None:
        self.run(self.check())

    async def check(self) -> None:
        aggregates = await self.rebuild_all()
        orders = [a for a in aggregates if isinstance(a, Order)]
        payments = [a for a in aggregates if isinstance(a, Payment)]
        by_order: defaultdict[UUID, list[Payment]] = defaultdict(list)
        for payment in payments:
            by_order[payment.order_id].append(payment)
            await self.check_payment(payment)
        recorded = {p.gateway_payment_id for p in payments if p.gateway_payment_id}
        opening = [p for p in payments if p.opening is not None]
        assert self.shop.gateway.payment_count <= len(recorded) + len(opening), "lost money"
        for order in orders:
            assert not (order.shipment_ids and order.status is OrderStatus.CANCELLED)
            self.check_money(order, by_order[order.id])
            self.check_cash_on_delivery(order, by_order[order.id])
        self.check_stock(
            [a for a in aggregates if isinstance(a, StockItem)],
            [a for a in aggregates if isinstance(a, OrderLedger)],
            {order.id: order for order in orders},
        )

    async def rebuild_all(self) -> list[Aggregate]:
        """Every aggregate, replayed from its events (continuing from the last check, so
        each event is replayed once), its statuses checked, compared with a snapshot."""
        for recorded in await self.shop.store.read_all(self.seen, limit=1_000_000):
            self.seen = recorded.position
            previous = self.rebuilt.get(recorded.stream_id)
            aggregate = self.mapper.from_recorded(recorded).mutate(previous)  # type: ignore[attr-defined]
            self.check_statuses(
                aggregate,
                getattr(previous, "status", None),
                aggregate.status if hasattr(aggregate, "status") else None,
            )
            self.rebuilt[recorded.stream_id] = aggregate
            self.changed.add(recorded.stream_id)
        for stream_id in self.changed:
            aggregate = self.rebuilt[stream_id]
            snapshot = self.mapper.from_snapshot(self.mapper.to_snapshot(aggregate))
            assert state(snapshot) == state(aggregate), type(aggregate)
        self.changed.clear()
        for stream_id, live in self.live.items():
            aggregate = self.rebuilt[stream_id]
            if live.version == aggregate.version:
                assert state(live) == state(aggregate), type(aggregate)
        return list(self.rebuilt.values())

    @staticmethod
    def check_statuses(aggregate: Aggregate, before: Any, after: Any) -> None:
        table: dict[Any, frozenset[Any]] | None = None
        if isinstance(aggregate, Order):
            table = TRANSITIONS
        elif isinstance(aggregate, Payment):
            table = ALLOWED_TRANSITIONS
        if table is not None and before is not None and before != after:
            assert after in table[before], (type(aggregate), before, after)

    async def check_payment(self, payment: Payment) -> None:
        zero = Money.zero(payment.currency)
        assert zero <= payment.refunded
        assert payment.refunded + payment.refund_pending <= payment.captured <= payment.authorized
        if payment.gateway_payment_id is None or payment.id in self.unreported:
            return
        if payment.open_effects:
            return  # its news is on the way: recovery records it
        view = await self.shop.gateway.retrieve(payment.gateway_payment_id)
        assert (view.captured, view.refunded) == (payment.captured, payment.refunded)

    def check_money(self, order: Order, payments: list[Payment]) -> None:
        zero = Money.zero(order.currency)
        captured = sum((p.captured for p in payments), zero)
        refunded = sum((p.refunded + p.charged_back for p in payments), zero)
        if order.id not in self.flagged:
            assert (order.paid, order.refunded) == (captured, refunded)
        assert zero <= order.refunded <= order.paid <= order.totals.total

    @staticmethod
    def check_cash_on_delivery(order: Order, payments: list[Payment]) -> None:
        if order.shipment_ids and not order.is_cash_on_delivery:
            assert order.paid == order.totals.total, "only cash on delivery ships unpaid"
        if order.status is OrderStatus.DELIVERED:
            assert order.paid == order.totals.total
        parcels = {collection_id(shipment_id): shipment_id for shipment_id in order.shipment_ids}
        for payment in payments:
            if payment.id in parcels:  # a parcel's cash, from its delivery or by hand
                assert payment.method is PaymentMethod.CASH_ON_DELIVERY
                assert payment.captured.amount > 0
        if order.is_cash_on_delivery and order.status is OrderStatus.DELIVERED:
            collected = [p for p in payments if p.id in parcels]
            event(f"cash on delivery delivered, {len(collected)} parcels collected")

    def check_stock(
        self, items: list[StockItem], ledgers: list[OrderLedger], orders: dict[UUID, Order]
    ) -> None:
        now = self.shop.clock.now()
        on_hand: defaultdict[str, int] = defaultdict(int)
        held: defaultdict[tuple[UUID, str], int] = defaultdict(int)
        for item in items:
            assert item.on_hand >= 0
            assert 0 <= item.reserved(now) <= item.on_hand
            assert item.reserved(now) + item.available(now) == item.on_hand
            on_hand[item.sku] += item.on_hand
            for order_id, reservation in item.reservations.items():
                assert orders[order_id].status is not OrderStatus.CANCELLED
                if reservation.is_active(now):
                    held[order_id, item.sku] += reservation.quantity
        moved: defaultdict[str, int] = defaultdict(int)
        for ledger in ledgers:
            order = orders[ledger.order_id]
            awaiting = order.status is not OrderStatus.CANCELLED and not ledger.taken
            if order.is_cash_on_delivery and awaiting:
                for line in order.lines:
                    assert held[order.id, line.sku] == line.quantity, "a COD hold lapsed"
            if ledger.taken:
                assert order.paid == order.totals.total or (
                    order.is_cash_on_delivery and order.shipment_ids
                ), "only a paid or shipped cash-on-delivery order takes stock"
            for sku, quantity in ledger.taken.items():
                moved[sku] -= quantity
            for sku, quantity in ledger.restocked.items():
                moved[sku] += quantity
        for sku in SKUS:
            assert on_hand[sku] == self.received[sku] + moved[sku], sku


CommerceMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
TestCommerce = CommerceMachine.TestCase

__all__ = ["TestCommerce"]
