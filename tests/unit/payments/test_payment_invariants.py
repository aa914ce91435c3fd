"""Random sequences of payment commands and gateway events never break the money rules.

Whatever happens: ``refunded <= captured <= authorized``; the money adds up
(``net = captured - refunded - charged back - fees``, the platform fee is the
schedule's fee on the captured total); each event moves the status along
``ALLOWED_TRANSITIONS``; a refused command or a redelivered gateway event
records nothing; and the payment rebuilt from its events equals the live one.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from commerce_core.eventstore import EventMapper
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import (
    ALLOWED_TRANSITIONS,
    Payment,
    PaymentStatus,
    RefundStatus,
)
from commerce_core.shared.errors import DomainError
from commerce_core.shared.money import Money

pytestmark = pytest.mark.slow  # a hypothesis state machine, 200 examples

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
AMOUNT = 10_000

cents = st.integers(min_value=1, max_value=AMOUNT + 2_000).map(lambda c: Money(c, "USD"))
fees = st.one_of(st.none(), st.integers(min_value=0, max_value=400).map(lambda c: Money(c, "USD")))


class PaymentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mapper = EventMapper()
        self.refs = (f"evt_{n}" for n in itertools.count(1))
        self.used_refs: list[str] = []
        self.now = T0

    @initialize(
        basis_points=st.integers(min_value=0, max_value=1_000),
        fixed=st.integers(min_value=0, max_value=100),
    )
    def create(self, basis_points: int, fixed: int) -> None:
        self.schedule = FeeSchedule(basis_points=basis_points, fixed=fixed)
        self.payment = Payment.create(
            uuid.uuid4(), "tenant-1", uuid.uuid4(), Money(AMOUNT, "USD"), self.schedule, T0
        )
        self.rebuilt: Any = None
        self.replay(self.payment.collect_events())
        # the model: sums of what was accepted, kept apart from the aggregate
        self.captured = self.refunded = self.gateway_fees = self.charged_back = 0

    # Running commands

    def ref(self, use: bool) -> str | None:
        if not use:
            return None
        ref = next(self.refs)
        self.used_refs.append(ref)
        return ref

    def attempt(self, command: Callable[[Payment], object]) -> bool:
        """Runs a command; True if it recorded events, False if it was refused."""
        self.now += timedelta(minutes=1)
        try:
            command(self.payment)
        except DomainError:
            assert self.payment.collect_events() == [], "a refused command recorded events"
            return False
        new = self.payment.collect_events()
        assert new, "an accepted command recorded nothing"
        self.replay(new)
        return True

    def replay(self, events: Sequence[Any]) -> None:
        """Applies each event, through JSON, to a copy; each must be an allowed transition."""
        for event in events:
            before = None if self.rebuilt is None else self.rebuilt.status
            stored = self.mapper.to_stored_event(event)
            decoded: Any = self.mapper.to_domain_event(stored)
            self.rebuilt = decoded.mutate(self.rebuilt)
            after = self.rebuilt.status
            assert before in (None, after) or after in ALLOWED_TRANSITIONS[before], (
                f"{type(event).__name__} moved {before} -> {after}"
            )

    # Rules: the gateway's side of authorization

    @rule(use_ref=st.booleans())
    def require_action(self, use_ref: bool) -> None:
        ref = self.ref(use_ref)
        self.attempt(lambda p: p.require_action("pi_1", self.now, event_ref=ref))

    @rule(use_ref=st.booleans())
    def authorize(self, use_ref: bool) -> None:
        ref = self.ref(use_ref)
        self.attempt(lambda p: p.authorize("pi_1", self.now, event_ref=ref))

    # Failing and voiding end a payment, so they act on one draw in four (on 3: hypothesis
    # favours small draws), and runs get further.

    @rule(
        code=st.sampled_from(["card_declined", "insufficient_funds", None]), dice=st.integers(0, 3)
    )
    def fail(self, code: str | None, dice: int) -> None:
        if dice == 3:
            self.attempt(lambda p: p.fail(code, self.now))

    @rule(use_ref=st.booleans(), dice=st.integers(0, 3))
    def void(self, use_ref: bool, dice: int) -> None:
        if dice == 3:
            ref = self.ref(use_ref)
            self.attempt(lambda p: p.void(self.now, event_ref=ref))

    # Rules: money in

    @rule(amount=st.one_of(st.none(), cents), fee=fees, use_ref=st.booleans())
    def capture(self, amount: Money | None, fee: Money | None, use_ref: bool) -> None:
        before = self.payment.captured.amount
        ref = self.ref(use_ref)
        if self.attempt(lambda p: p.capture(self.now, amount, fee, event_ref=ref)):
            self.captured += self.payment.captured.amount - before
            assert amount is None or self.captured - before == amount.amount
            self.gateway_fees += fee.amount if fee else 0

    @rule(fee=fees)
    def charge(self, fee: Money | None) -> None:
        if self.attempt(lambda p: p.charge("pi_1", self.now, fee)):
            self.captured += AMOUNT
            self.gateway_fees += fee.amount if fee else 0

    # Rules: money out

    @rule(amount=cents)
    def refund(self, amount: Money) -> None:
        self.attempt(lambda p: p.refund(uuid.uuid4(), amount, self.now, "reason"))

    @rule()
    def refund_the_rest(self) -> None:
        if not self.payment.refundable.is_zero:
            refundable = self.payment.refundable
            self.attempt(lambda p: p.refund(uuid.uuid4(), refundable, self.now, "all"))

    @rule(data=st.data(), succeed=st.booleans(), use_ref=st.booleans())
    def settle_a_refund(self, data: st.DataObject, succeed: bool, use_ref: bool) -> None:
        pending = [r for r in self.payment.refunds if r.status == RefundStatus.PENDING]
        refunds = pending if pending and data.draw(st.booleans()) is False else self.payment.refunds
        if not refunds:
            return
        refund = data.draw(st.sampled_from(refunds))
        ref = self.ref(use_ref)
        if succeed:
            accepted = self.attempt(
                lambda p: p.confirm_refund(refund.id, "re_1", self.now, event_ref=ref)
            )
            if accepted:
                self.refunded += refund.amount.amount
        else:
            accepted = self.attempt(lambda p: p.fail_refund(refund.id, self.now, event_ref=ref))
        assert accepted == (refund.status == RefundStatus.PENDING)

    # Rules: disputes

    @rule(amount=cents)
    def open_dispute(self, amount: Money) -> None:
        self.attempt(lambda p: p.open_dispute("dp_1", amount, "fraudulent", self.now))

    @rule(won=st.booleans())
    def close_a_dispute(self, won: bool) -> None:
        dispute = self.payment.dispute
        if won:
            self.attempt(lambda p: p.win_dispute(self.now))
        elif self.attempt(lambda p: p.lose_dispute(self.now)):
            assert dispute is not None
            self.charged_back += dispute.amount.amount

    # Rules: the gateway redelivers an event

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        if not self.used_refs:
            return
        ref = data.draw(st.sampled_from(self.used_refs))
        if not self.payment.already_processed(ref):
            return  # the command that used it was refused, so the ref is still fresh
        p, now = self.payment, self.now
        commands: list[Callable[[], None]] = [
            lambda: p.authorize("pi_1", now, event_ref=ref),
            lambda: p.capture(now, event_ref=ref),
            lambda: p.void(now, event_ref=ref),
            lambda: p.win_dispute(now, event_ref=ref),
        ]
        for command in commands:
            command()
            assert p.collect_events() == []

    # Invariants

    @invariant()
    def refunded_within_captured_within_authorized(self) -> None:
        p = self.payment
        zero = Money(0, "USD")
        assert zero <= p.refunded
        assert p.refunded + p.refund_pending + p.charged_back <= p.captured <= p.authorized
        assert p.authorized in (zero, p.amount)
        assert zero <= p.refundable <= p.captured

    @invariant()
    def money_is_conserved(self) -> None:
        p = self.payment
        assert p.captured.amount == self.captured
        assert p.refunded.amount == self.refunded
        assert p.gateway_fee.amount == self.gateway_fees
        assert p.charged_back.amount == self.charged_back
        assert p.platform_fee == self.schedule.fee_on(p.captured)
        assert p.net_amount.amount == (
            self.captured
            - self.refunded
            - self.charged_back
            - p.platform_fee.amount
            - self.gateway_fees
        )
        pending = sum(r.amount.amount for r in p.refunds if r.status == RefundStatus.PENDING)
        succeeded = sum(r.amount.amount for r in p.refunds if r.status == RefundStatus.SUCCEEDED)
        assert (p.refund_pending.amount, p.refunded.amount) == (pending, succeeded)

    @invariant()
    def the_status_agrees_with_the_amounts(self) -> None:
        p = self.payment
        if p.status in (PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.VOIDED):
            assert p.captured.is_zero
        if p.status == PaymentStatus.REFUNDED:
            assert p.refunded == p.captured
        if p.status == PaymentStatus.PARTIALLY_REFUNDED:
            assert p.captured > p.refunded > Money(0, "USD")

    @invariant()
    def rebuilding_from_events_gives_the_same_state(self) -> None:
        assert vars(self.rebuilt) == vars(self.payment)


TestPaymentInvariants = PaymentMachine.TestCase
TestPaymentInvariants.settings = settings(max_examples=200)
