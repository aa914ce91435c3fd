"""A flash sale, at random: never oversold, every paid order's units taken exactly once.

Buyers of one SKU place and pay orders, alone or in concurrent bursts whose loads
interleave; some charges die between the payment and its stock take (ADR 0046);
reservations expire and the expiry job releases them; recovery runs. After every
step: units taken (the ledgers) never exceed what was received, on hand is what was
received less what was taken (no unit taken twice, none lost), no order's take is
counted twice, and reserved units never exceed on hand. Once recovery has run, no
intent is left open and every paid order has its units or ran out of stock because
its hold had lapsed (an operator's note), never both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from commerce_core.eventstore import EventStoreError
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.ordering.loading import load_ledger
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.effects import recover_payment
from commerce_core.processes.order_jobs import expire_order_reservations
from tests.unit.shop import STAFF, Shop

T = TypeVar("T")
STOCK = 8
SKU = "HOT-1"


class FlashSale(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.shop = Shop()
        self.run(self.shop.product(SKU, stock=STOCK))
        self.orders: list[UUID] = []
        self.unpaid: list[UUID] = []

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def teardown(self) -> None:
        self.loop.close()

    async def buy(self, quantity: int, crash_at_take: bool) -> None:
        try:
            order = await self.shop.place((SKU, quantity))
        except InsufficientStockError:
            return
        self.orders.append(order.id)
        if crash_at_take:  # the intent and the outcome are stored, then the process dies
            self.shop.store.planned = [None, None, EventStoreError("killed")]
        try:
            await self.shop.charge(order.id)
        except EventStoreError:
            pass
        finally:
            self.shop.store.planned = []

    async def burst(self, quantities: list[int]) -> None:
        await asyncio.gather(*(self.buy(q, crash_at_take=False) for q in quantities))

    @rule(quantity=st.integers(1, 3), crash=st.booleans())
    def one_buyer(self, quantity: int, crash: bool) -> None:
        self.run(self.buy(quantity, crash))

    @rule(quantities=st.lists(st.integers(1, 3), min_size=2, max_size=6))
    def a_burst_of_buyers(self, quantities: list[int]) -> None:
        self.shop.store.yield_on_read = True  # every load lets the others run
        try:
            self.run(self.burst(quantities))
        finally:
            self.shop.store.yield_on_read = False

    @rule(quantity=st.integers(1, 3))
    def an_order_left_unpaid(self, quantity: int) -> None:
        try:
            order = self.run(self.shop.place((SKU, quantity)))
        except InsufficientStockError:
            return
        self.orders.append(order.id)
        self.unpaid.append(order.id)

    @rule(minutes=st.sampled_from([1, 20, 60]))
    def time_passes_and_holds_expire(self, minutes: int) -> None:
        self.shop.clock.advance(timedelta(minutes=minutes))
        for order_id in self.orders:
            self.run(expire_order_reservations(self.shop.repo, self.shop.clock, STAFF, order_id))

    @rule()
    def recovery(self) -> None:
        self.run(self.recover_all())

    async def recover_all(self) -> None:
        for order_id in self.orders:
            for payment in await self.shop.payments(order_id):
                if payment.open_effects:
                    await recover_payment(self.shop.payment_services, STAFF, payment.id)

    async def taken(self) -> dict[UUID, int]:
        taken = {}
        for order_id in self.orders:
            order = await self.shop.order(order_id)
            ledger = await load_ledger(self.shop.repo, order)
            taken[order_id] = ledger.taken.get(SKU, 0)
            assert taken[order_id] in (0, order.lines[0].quantity), "taken twice, or in part"
            if taken[order_id]:
                assert order.status is OrderStatus.PAID
        return taken

    @invariant()
    def never_oversold_and_every_unit_accounted_for(self) -> None:
        sold = sum(self.run(self.taken()).values())
        levels = self.run(self.shop.levels(SKU))
        assert sold <= STOCK
        assert levels.on_hand == STOCK - sold
        assert 0 <= levels.reserved <= levels.on_hand

    @invariant()
    def after_recovery_every_paid_order_has_its_units_or_a_lapsed_hold(self) -> None:
        self.run(self.recover_all())
        taken = self.run(self.taken())
        for order_id in self.orders:
            order = self.run(self.shop.order(order_id))
            [*payments] = self.run(self.shop.payments(order_id))
            assert all(not p.open_effects for p in payments)
            if order.status is OrderStatus.PAID and not taken[order_id]:
                # its stock ran out: only possible once its hold had lapsed
                assert order.reservation_expires_at is not None
                assert order.reservation_expires_at <= self.shop.clock.now()


TestFlashSale = FlashSale.TestCase
TestFlashSale.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
