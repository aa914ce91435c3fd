"""A refund awaiting approval, on the payment: asked, approved (with its intent) or rejected."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hypothesis import given as for_all
from hypothesis import strategies as st

from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import EffectKind, Payment, PaymentStatus, RefundStatus
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.refunds import RefundExceedsCapturedError
from tests.unit.gwt import given

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
R1, R2 = uuid.UUID(int=1), uuid.UUID(int=2)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def captured(cents: int = 10_000) -> Payment:
    payment = Payment.create(
        uuid.uuid4(), "tenant-1", uuid.uuid4(), usd(cents), FeeSchedule(basis_points=300), T0
    )
    payment.authorize("pi_1", T0)
    payment.capture(T0)
    return payment


def asked(amount: int = 6_000) -> list[Callable[[Payment], object]]:
    return [lambda p: p.request_refund_approval(R1, usd(amount), T0, "damaged", "key:staff")]


def test_a_refund_asked_for_approval_holds_no_money_and_opens_no_intent() -> None:
    spec = given(captured())

    [payload] = spec.when(
        lambda p: p.request_refund_approval(R1, usd(6_000), T1, "damaged", "key:staff")
    ).then("RefundApprovalRequested")

    payment = spec.aggregate
    assert payload["order_id"] == payment.order_id
    [refund] = payment.refunds
    assert (refund.status, refund.requested_by) == (RefundStatus.PENDING_APPROVAL, "key:staff")
    assert payment.open_effects == []
    assert (payment.refundable, payment.refund_pending) == (usd(10_000), usd(0))
    assert payment.refunds_asked == usd(6_000)
    assert spec.rebuilt().refunds == payment.refunds  # its events persist


def test_approving_makes_it_pending_with_its_gateway_call_as_the_intent() -> None:
    spec = given(captured(), *asked())

    spec.when(lambda p: p.approve_refund(R1, T1, "key:admin")).then(
        "RefundApproved", "EffectRequested"
    )

    payment = spec.aggregate
    [refund] = payment.refunds
    assert (refund.status, refund.decided_by) == (RefundStatus.PENDING, "key:admin")
    [effect] = payment.open_effects
    assert (effect.key, effect.kind, effect.amount) == (
        f"{R1}:refund",
        EffectKind.REFUND,
        usd(6_000),
    )
    assert (payment.refundable, payment.refund_pending) == (usd(4_000), usd(6_000))
    assert spec.rebuilt().refund_pending == usd(6_000)


def test_rejecting_records_who_and_why_and_frees_the_threshold() -> None:
    spec = given(captured(), *asked())

    spec.when(lambda p: p.reject_refund(R1, T1, "key:admin", "not returned")).then("RefundRejected")

    [refund] = spec.aggregate.refunds
    assert (refund.status, refund.decided_by, refund.rejection) == (
        RefundStatus.REJECTED,
        "key:admin",
        "not returned",
    )
    assert spec.aggregate.refunds_asked == usd(0)
    assert spec.aggregate.open_effects == []


def test_a_decided_refund_cannot_be_decided_again() -> None:
    approved = given(captured(), *asked(), lambda p: p.approve_refund(R1, T1, "key:admin"))
    approved.when(lambda p: p.approve_refund(R1, T1, "key:admin")).then_error(
        InvalidTransitionError
    )
    approved.when(lambda p: p.reject_refund(R1, T1, "key:admin", "late")).then_error(
        InvalidTransitionError
    )
    rejected = given(captured(), *asked(), lambda p: p.reject_refund(R1, T1, "key:a", "no"))
    rejected.when(lambda p: p.approve_refund(R1, T1, "key:admin")).then_error(
        InvalidTransitionError
    )


def test_a_plain_refund_is_not_one_to_approve() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(1_000), T0))

    spec.when(lambda p: p.approve_refund(R1, T1, "key:admin")).then_error(InvalidTransitionError)


def test_approving_after_the_money_went_back_otherwise_is_refused() -> None:
    spec = given(
        captured(),
        *asked(6_000),
        lambda p: p.refund(R2, usd(10_000), T0, "all, by an admin"),
        lambda p: p.confirm_refund(R2, "re_2", T0),
    )
    assert spec.aggregate.status is PaymentStatus.REFUNDED

    spec.when(lambda p: p.approve_refund(R1, T1, "key:admin")).then_error(
        RefundExceedsCapturedError
    )


def test_asking_more_than_is_refundable_or_nothing_is_refused() -> None:
    spec = given(captured())

    spec.when(
        lambda p: p.request_refund_approval(R1, usd(10_001), T1, None, "key:staff")
    ).then_error(RefundExceedsCapturedError)
    spec.when(lambda p: p.request_refund_approval(R1, usd(0), T1, None, "key:staff")).then_error(
        InvalidValueError
    )


@for_all(
    asks=st.lists(
        st.tuples(st.integers(1, 4_000), st.sampled_from(["approve", "reject", "wait"])),
        max_size=6,
    )
)
def test_approvals_never_refund_more_than_was_captured(asks: list[tuple[int, str]]) -> None:
    payment = captured()
    for amount, decision in asks:
        refund_id = uuid.uuid4()
        try:
            payment.request_refund_approval(refund_id, usd(amount), T0, None, "key:staff")
            if decision == "approve":
                payment.approve_refund(refund_id, T1, "key:admin")
            elif decision == "reject":
                payment.reject_refund(refund_id, T1, "key:admin", "no")
        except RefundExceedsCapturedError:
            pass
        assert payment.refunded + payment.refund_pending <= payment.captured
        pending = [r for r in payment.refunds if r.status is RefundStatus.PENDING]
        assert sum(r.amount.amount for r in pending) == payment.refund_pending.amount
