"""Payment refunds and disputes: never more than captured; fees are not given back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import (
    DisputeStatus,
    Payment,
    PaymentStatus,
    RefundNotFoundError,
    RefundStatus,
)
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.refunds import RefundExceedsCapturedError
from tests.unit.gwt import given

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
R1, R2 = uuid.UUID(int=1), uuid.UUID(int=2)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def captured(cents: int = 10_000, gateway_fee: int = 320) -> Payment:
    """Captured 10,000 on the starter rate (fee 300) with a gateway fee of 320."""
    payment = Payment.create(
        uuid.uuid4(), "tenant-1", uuid.uuid4(), usd(10_000), FeeSchedule(basis_points=300), T0
    )
    payment.authorize("pi_1", T0)
    payment.capture(T0, usd(cents), gateway_fee=usd(gateway_fee))
    return payment


def test_a_refund_is_pending_until_the_gateway_answers() -> None:
    spec = given(captured())

    [payload] = spec.when(lambda p: p.refund(R1, usd(2_500), T1, "damaged")).then("RefundRequested")

    assert payload == {
        "refund_id": R1,
        "amount": usd(2_500),
        "reason": "damaged",
        "at": T1,
        "event_ref": None,
    }
    payment = spec.aggregate
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.refunded == usd(0)
    assert payment.refund_pending == usd(2_500)
    assert payment.refundable == usd(7_500)
    [refund] = payment.refunds
    assert (refund.id, refund.status, refund.gateway_refund_id) == (R1, RefundStatus.PENDING, None)


def test_a_confirmed_partial_refund_partially_refunds_the_payment() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(2_500), T1, "damaged"))

    spec.when(lambda p: p.confirm_refund(R1, "re_1", T1)).then("RefundSucceeded")

    payment = spec.aggregate
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert (payment.refunded, payment.refund_pending) == (usd(2_500), usd(0))
    assert payment.refunds[0].status == RefundStatus.SUCCEEDED
    assert payment.refunds[0].gateway_refund_id == "re_1"
    assert payment.net_amount == usd(10_000 - 2_500 - 300 - 320)


def test_refunding_everything_refunds_the_payment_and_keeps_the_fees() -> None:
    spec = given(
        captured(),
        lambda p: p.refund(R1, usd(4_000), T1),
        lambda p: p.confirm_refund(R1, "re_1", T1),
        lambda p: p.refund(R2, usd(6_000), T1),
    )

    spec.when(lambda p: p.confirm_refund(R2, "re_2", T1)).then("RefundSucceeded")

    payment = spec.aggregate
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded == payment.captured == usd(10_000)
    # fees are not refunded: the merchant is out of pocket by them
    assert payment.platform_fee == usd(300)
    assert payment.net_amount == usd(-620)
    spec.when(lambda p: p.refund(uuid.uuid4(), usd(1), T1)).then_error(InvalidTransitionError)


def test_a_refund_larger_than_what_is_left_is_refused() -> None:
    spec = given(
        captured(),
        lambda p: p.refund(R1, usd(7_000), T1),
        lambda p: p.confirm_refund(R1, "re_1", T1),
    )

    error = spec.when(lambda p: p.refund(R2, usd(3_001), T1)).then_error(RefundExceedsCapturedError)

    assert isinstance(error, RefundExceedsCapturedError)
    assert (error.requested, error.refundable) == (usd(3_001), usd(3_000))


def test_pending_refunds_count_against_what_can_be_refunded() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(7_000), T1))

    spec.when(lambda p: p.refund(R2, usd(3_001), T1)).then_error(RefundExceedsCapturedError)
    spec.when(lambda p: p.refund(R2, usd(3_000), T1)).then("RefundRequested")


def test_a_failed_refund_makes_its_amount_refundable_again() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(7_000), T1))

    [payload] = spec.when(lambda p: p.fail_refund(R1, T1, "expired_or_canceled_card")).then(
        "RefundFailed"
    )

    assert payload["failure_code"] == "expired_or_canceled_card"
    payment = spec.aggregate
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.refundable == usd(10_000)
    assert payment.refunds[0].status == RefundStatus.FAILED


def test_a_refund_is_settled_once() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(100), T1), lambda p: p.fail_refund(R1, T1))

    spec.when(lambda p: p.confirm_refund(R1, "re_1", T1)).then_error(InvalidTransitionError)
    spec.when(lambda p: p.fail_refund(R1, T1)).then_error(InvalidTransitionError)
    spec.when(lambda p: p.confirm_refund(R2, "re_2", T1)).then_error(RefundNotFoundError)


def test_refund_ids_are_unique_and_amounts_positive() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(100), T1))

    spec.when(lambda p: p.refund(R1, usd(100), T1)).then_error(InvalidValueError)
    spec.when(lambda p: p.refund(R2, usd(0), T1)).then_error(InvalidValueError)
    spec.when(lambda p: p.refund(R2, Money(10, "EUR"), T1)).then_error(InvalidValueError)


def test_nothing_is_refunded_before_capture() -> None:
    payment = Payment.create(
        uuid.uuid4(), "t", uuid.uuid4(), usd(100), FeeSchedule(basis_points=0), T0
    )
    payment.authorize("pi_1", T0)

    given(payment).when(lambda p: p.refund(R1, usd(1), T1)).then_error(InvalidTransitionError)


def test_a_refund_by_gateway_event_is_recorded_once() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(100), T1))

    spec.when(lambda p: p.confirm_refund(R1, "re_1", T1, event_ref="evt_9")).then("RefundSucceeded")
    spec.when(lambda p: p.confirm_refund(R1, "re_1", T1, event_ref="evt_9")).then()


def test_an_open_dispute_holds_the_payment_and_blocks_refunds() -> None:
    spec = given(captured())

    spec.when(lambda p: p.open_dispute("dp_1", usd(10_000), "fraudulent", T1)).then("DisputeOpened")

    payment = spec.aggregate
    assert payment.status == PaymentStatus.DISPUTED
    assert payment.dispute is not None
    assert payment.dispute.status == DisputeStatus.OPEN
    spec.when(lambda p: p.refund(R1, usd(1), T1)).then_error(InvalidTransitionError)
    spec.when(lambda p: p.open_dispute("dp_2", usd(1), "again", T1)).then_error(
        InvalidTransitionError
    )


def test_a_won_dispute_returns_the_payment_to_what_its_amounts_say() -> None:
    spec = given(
        captured(),
        lambda p: p.refund(R1, usd(1_000), T1),
        lambda p: p.confirm_refund(R1, "re_1", T1),
        lambda p: p.open_dispute("dp_1", usd(9_000), "fraudulent", T1),
    )

    spec.when(lambda p: p.win_dispute(T1)).then("DisputeWon")

    payment = spec.aggregate
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert payment.dispute is not None
    assert payment.dispute.status == DisputeStatus.WON
    assert payment.charged_back == usd(0)
    spec.when(lambda p: p.refund(R2, usd(9_000), T1)).then("RefundRequested")


def test_a_lost_dispute_charges_the_amount_back_and_closes_the_payment() -> None:
    spec = given(captured(), lambda p: p.open_dispute("dp_1", usd(4_000), "fraudulent", T1))

    spec.when(lambda p: p.lose_dispute(T1)).then("DisputeLost")

    payment = spec.aggregate
    assert payment.status == PaymentStatus.DISPUTED
    assert payment.dispute is not None
    assert payment.dispute.status == DisputeStatus.LOST
    assert payment.charged_back == usd(4_000)
    assert payment.net_amount == usd(10_000 - 4_000 - 300 - 320)
    spec.when(lambda p: p.refund(R1, usd(1), T1)).then_error(InvalidTransitionError)
    spec.when(lambda p: p.win_dispute(T1)).then_error(InvalidTransitionError)


def test_a_dispute_cannot_exceed_what_is_left_and_needs_captured_money() -> None:
    spec = given(captured(), lambda p: p.refund(R1, usd(3_000), T1))

    spec.when(lambda p: p.open_dispute("dp_1", usd(7_001), "fraudulent", T1)).then_error(
        InvalidValueError
    )
    spec.when(lambda p: p.win_dispute(T1)).then_error(InvalidTransitionError)
