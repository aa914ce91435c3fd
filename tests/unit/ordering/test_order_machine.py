"""Random sequences of order commands never break the order's invariants.

Each run draws how the order is paid (unspecified, card, bank transfer, cash on
delivery). After every step: each status change the order made is in the table;
money stays ``0 <= refunded <= paid <= total``; only a cash-on-delivery order
is ever in fulfilment or ships unpaid, and it is delivered only once paid in
full; a refused command recorded nothing and changed nothing; the status
history ends at the status; and the order rebuilt from its events (through
JSON) and from a snapshot equals the live one.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.domain import Aggregate
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from commerce_core.eventstore import EventMapper
from commerce_core.ordering.order import TRANSITIONS, DisputeOutcome, Order, OrderStatus
from commerce_core.shared.errors import DomainError
from commerce_core.shared.values import PaymentMethod, Sku, SkuQuantity
from tests.unit.ordering.order_builders import MUG, T0, TEE, new_order, usd

pytestmark = pytest.mark.slow  # a hypothesis state machine, 150 examples

S = OrderStatus
FULFILMENT = {
    S.PAID,
    S.PROCESSING,
    S.READY_FOR_SHIPMENT,
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.IN_TRANSIT,
    S.DELIVERED,
}

amounts = st.integers(min_value=-10, max_value=6_000).map(usd)
shipment_lines = st.none() | st.lists(
    st.builds(SkuQuantity, st.sampled_from([MUG, TEE, Sku("HAT-1")]), st.integers(1, 3)),
    max_size=3,
)


rarely = st.integers(0, 3).map(lambda n: n == 0)


def state(order: Aggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(order).items() if k != "_pending_events"}


class OrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mapper = EventMapper()
        self.order = new_order()
        self.history: list[Any] = list(self.order.collect_events())
        self.now = T0
        self.accepted = 0

    @initialize(method=st.sampled_from([None, *PaymentMethod]))
    def place(self, method: PaymentMethod | None) -> None:
        self.order = new_order(payment_method=method)
        self.history = list(self.order.collect_events())
        event(f"paid by {method}")

    def attempt(self, command: Callable[[Order], object]) -> None:
        self.now += timedelta(minutes=1)
        before = self.mapper.to_snapshot(self.order).data
        status = self.order.status
        try:
            command(self.order)
        except DomainError:
            assert self.order.collect_events() == []
            assert self.mapper.to_snapshot(self.order).data == before
            return
        new: list[Any] = list(self.order.collect_events())
        assert new, "an accepted command records an event"
        self.history.extend(new)
        self.accepted += 1
        cod = " (cash on delivery)" if self.order.is_cash_on_delivery else ""
        event(f"reached {self.order.status}{cod}")
        statuses = [status, *(event.status for event in new)]
        for current, target in itertools.pairwise(statuses):
            assert current == target or target in TRANSITIONS[current], (current, target)

    @rule(amount=amounts)
    def pay(self, amount: Any) -> None:
        self.attempt(lambda o: o.mark_paid(amount, uuid.uuid4(), self.now))

    @rule()
    def pay_the_rest(self) -> None:
        self.attempt(lambda o: o.mark_paid(o.outstanding, uuid.uuid4(), self.now))

    @rule()
    def fail_payment(self) -> None:
        self.attempt(lambda o: o.mark_payment_failed("declined", self.now))

    @rule(status=st.sampled_from([s for s in OrderStatus if s not in (S.CANCELLED, S.ARCHIVED)]))
    def change_status(self, status: OrderStatus) -> None:
        self.attempt(lambda o: o.change_status(status, self.now, "staff", "because"))

    # Cancelling, archiving and refunding everything end the interesting part of a
    # run, so they act on one draw in four only; the other rules get further.
    @rule(now=rarely)
    def cancel(self, now: bool) -> None:
        if now:
            self.attempt(lambda o: o.cancel("changed mind", self.now))

    @rule(amount=amounts)
    def refund(self, amount: Any) -> None:
        self.attempt(lambda o: o.record_refund(amount, self.now))

    @rule(now=rarely)
    def refund_the_rest(self, now: bool) -> None:
        if now:
            self.attempt(lambda o: o.record_refund(o.refundable, self.now))

    @rule()
    def open_dispute(self) -> None:
        self.attempt(lambda o: o.open_dispute("fraudulent", self.now))

    @rule(outcome=st.sampled_from(DisputeOutcome))
    def close_dispute(self, outcome: DisputeOutcome) -> None:
        self.attempt(lambda o: o.close_dispute(outcome, self.now))

    @rule(lines=shipment_lines)
    def ship(self, lines: list[SkuQuantity] | None) -> None:
        self.attempt(lambda o: o.record_shipment(uuid.uuid4(), lines, self.now))

    @rule()
    def deliver(self) -> None:
        self.attempt(lambda o: o.mark_delivered(self.now))

    @rule(now=rarely)
    def archive(self, now: bool) -> None:
        if now:
            self.attempt(lambda o: o.archive(self.now))

    @rule()
    def collect_cash_on_delivery(self) -> None:
        self.attempt(lambda o: o.mark_paid(o.outstanding, uuid.uuid4(), self.now, "courier"))

    @rule(collect_first=st.booleans())
    def next_happy_step(self, collect_first: bool) -> None:
        if self.order.is_cash_on_delivery:
            self.next_cash_on_delivery_step(collect_first)
            return
        steps = {
            S.PENDING_PAYMENT: lambda o: o.mark_paid(o.outstanding, uuid.uuid4(), self.now),
            S.PAID: lambda o: o.change_status(S.PROCESSING, self.now, "staff"),
            S.PROCESSING: lambda o: o.change_status(S.READY_FOR_SHIPMENT, self.now, "staff"),
            S.READY_FOR_SHIPMENT: lambda o: o.record_shipment(uuid.uuid4(), None, self.now),
            S.PARTIALLY_SHIPPED: lambda o: o.record_shipment(uuid.uuid4(), None, self.now),
            S.SHIPPED: lambda o: o.change_status(S.IN_TRANSIT, self.now, "carrier"),
            S.IN_TRANSIT: lambda o: o.mark_delivered(self.now),
        }
        step = steps.get(self.order.status)
        if step is not None:
            self.attempt(step)

    def next_cash_on_delivery_step(self, collect_first: bool) -> None:
        """Confirmed and shipped unpaid, part of the cash with each parcel, the rest at the
        end; or delivered before the cash is in (which the order must refuse)."""
        order = self.order
        steps: dict[OrderStatus, Callable[[Order], object]] = {
            S.PENDING_PAYMENT: lambda o: o.change_status(S.PROCESSING, self.now, "staff"),
            S.PROCESSING: lambda o: o.record_shipment(
                uuid.uuid4(), [SkuQuantity(MUG, 1)], self.now
            ),
            S.PARTIALLY_SHIPPED: lambda o: o.record_shipment(uuid.uuid4(), None, self.now),
            S.SHIPPED: lambda o: o.change_status(S.IN_TRANSIT, self.now, "carrier"),
            S.IN_TRANSIT: lambda o: o.mark_delivered(self.now),
        }
        owed = order.outstanding
        if collect_first and order.status in (S.PARTIALLY_SHIPPED, S.IN_TRANSIT) and owed.amount:
            half = usd((owed.amount + 1) // 2)
            steps[order.status] = lambda o: o.mark_paid(half, uuid.uuid4(), self.now, "courier")
        step = steps.get(order.status)
        if step is not None:
            self.attempt(step)

    @invariant()
    def money_never_runs_over(self) -> None:
        order = self.order
        assert usd(0) <= order.refunded <= order.paid <= order.totals.total
        if order.status in FULFILMENT and not order.is_cash_on_delivery:
            assert order.paid == order.totals.total

    @invariant()
    def only_cash_on_delivery_ships_unpaid_and_it_is_delivered_paid(self) -> None:
        order = self.order
        if order.shipped and not order.is_cash_on_delivery:
            assert order.paid == order.totals.total
        if S.DELIVERED in {change.status for change in order.status_history}:
            assert order.paid == order.totals.total

    @invariant()
    def nothing_ships_twice(self) -> None:
        ordered = {line.sku: line.quantity for line in self.order.lines}
        assert all(0 < n <= ordered[sku] for sku, n in self.order.shipped.items())

    @invariant()
    def the_history_follows_the_table_and_ends_at_the_status(self) -> None:
        history = [change.status for change in self.order.status_history]
        assert history[0] is S.PENDING_PAYMENT
        assert history[-1] is self.order.status
        for current, target in itertools.pairwise(history):
            assert target in TRANSITIONS[current]

    @invariant()
    def events_and_snapshots_rebuild_the_same_order(self) -> None:
        rebuilt: Any = None
        for recorded in self.history:
            stored = self.mapper.to_stored_event(recorded)
            rebuilt = self.mapper.to_domain_event(stored).mutate(rebuilt)  # type: ignore[attr-defined]
        assert state(rebuilt) == state(self.order)
        restored = self.mapper.from_snapshot(self.mapper.to_snapshot(self.order))
        assert state(restored) == state(self.order)


OrderMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestOrderMachine = OrderMachine.TestCase
