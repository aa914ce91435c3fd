"""Order refunds and disputes, and how a partially refunded order carries on."""

from __future__ import annotations

import uuid

import pytest

from commerce_core.ordering.order import (
    DisputeOutcome,
    OrderStatus,
    RefundExceedsPaidError,
    TransitionGuardError,
)
from commerce_core.shared.errors import (
    CurrencyMismatchError,
    InvalidTransitionError,
    InvalidValueError,
)
from commerce_core.shared.money import Money
from commerce_core.shared.refunds import RefundExceedsCapturedError
from commerce_core.shared.values import SkuQuantity
from tests.unit.gwt import given
from tests.unit.ordering.order_builders import (
    MUG,
    PAYMENT,
    T1,
    T2,
    TEE,
    in_status,
    new_order,
    paid_order,
    pay,
    usd,
)

S = OrderStatus
REFUND = uuid.UUID("00000000-0000-0000-0000-0000000000d1")


# -- refunds -----------------------------------------------------------------------------


def test_a_partial_refund_makes_the_order_partially_refunded() -> None:
    spec = given(paid_order())

    [payload] = spec.when(
        lambda o: o.record_refund(usd(1000), T2, REFUND, "broken mug", "alice")
    ).then("RefundRecorded")

    assert payload == {
        "refund_id": REFUND,
        "amount": usd(1000),
        "status": S.PARTIALLY_REFUNDED,
        "at": T2,
        "actor": "alice",
        "reason": "broken mug",
    }
    order = spec.aggregate
    assert (order.status, order.refunded, order.refundable) == (
        S.PARTIALLY_REFUNDED,
        usd(1000),
        usd(3900),
    )
    assert order.paused_status is S.PAID


def test_refunds_that_reach_what_was_paid_make_the_order_refunded() -> None:
    spec = given(paid_order(), lambda o: o.record_refund(usd(1000), T1))

    [payload] = spec.when(lambda o: o.record_refund(usd(3900), T2)).then("RefundRecorded")

    assert payload["status"] is S.REFUNDED
    assert spec.aggregate.refunded == spec.aggregate.paid == usd(4900)


def test_a_full_refund_at_once_makes_the_order_refunded() -> None:
    spec = given(in_status(S.DELIVERED))

    spec.when(lambda o: o.record_refund(usd(4900), T2)).then("RefundRecorded")

    assert spec.aggregate.status is S.REFUNDED


def test_a_refund_beyond_what_is_refundable_is_refused() -> None:
    spec = given(paid_order(), lambda o: o.record_refund(usd(4000), T1))

    error = spec.when(lambda o: o.record_refund(usd(901), T2)).then_error(RefundExceedsPaidError)

    # one problem type with the payment's own refusal
    assert isinstance(error, RefundExceedsCapturedError)
    assert (error.requested, error.refundable) == (usd(901), usd(900))


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (usd(0), InvalidValueError),
        (usd(-1), InvalidValueError),
        (Money(1, "EUR"), CurrencyMismatchError),
    ],
)
def test_a_refund_must_be_positive_and_in_the_order_currency(
    amount: Money, error: type[Exception]
) -> None:
    given(paid_order()).when(lambda o: o.record_refund(amount, T2)).then_error(error)


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.REFUNDED, S.ARCHIVED])
def test_nothing_is_refunded_before_payment_or_after_the_end(status: OrderStatus) -> None:
    given(in_status(status)).when(lambda o: o.record_refund(usd(1), T2)).then_error(
        InvalidTransitionError
    )


def test_a_partly_paid_order_is_cancelled_before_its_payment_is_refunded() -> None:
    spec = given(new_order(), lambda o: o.mark_paid(usd(900), PAYMENT, T1))

    spec.when(lambda o: o.record_refund(usd(900), T2)).then_error(InvalidTransitionError)
    spec.when(lambda o: o.cancel("customer asked", T2)).then("Cancelled")
    [payload] = spec.when(lambda o: o.record_refund(usd(900), T2)).then("RefundRecorded")

    assert payload["status"] is S.CANCELLED
    assert spec.aggregate.refundable == usd(0)


def test_a_disputed_order_cannot_be_refunded_until_the_dispute_closes() -> None:
    spec = given(in_status(S.DISPUTED))

    error = spec.when(lambda o: o.record_refund(usd(100), T2)).then_error(TransitionGuardError)

    assert "dispute" in str(error)


# -- partially refunded orders carry on --------------------------------------------------


def test_a_partially_refunded_order_continues_from_where_it_paused() -> None:
    spec = given(paid_order(), lambda o: o.record_refund(usd(100), T1))

    spec.when(lambda o: o.change_status(S.IN_TRANSIT, T2, "alice")).then_error(TransitionGuardError)
    spec.when(lambda o: o.change_status(S.PROCESSING, T2, "alice")).then("StatusChanged")

    order = spec.aggregate
    assert (order.status, order.paused_status, order.refunded) == (S.PROCESSING, None, usd(100))


def test_a_partially_refunded_order_can_be_cancelled_only_if_it_paused_before_shipping() -> None:
    before = given(paid_order(), lambda o: o.record_refund(usd(100), T1))
    after = given(in_status(S.SHIPPED), lambda o: o.record_refund(usd(100), T1))

    before.when(lambda o: o.cancel("customer asked", T2)).then("Cancelled")
    after.when(lambda o: o.cancel("customer asked", T2)).then_error(TransitionGuardError)


def test_a_partially_refunded_order_is_archived_only_if_it_paused_after_delivery() -> None:
    delivered = given(in_status(S.DELIVERED), lambda o: o.record_refund(usd(100), T1))
    processing = given(in_status(S.PROCESSING), lambda o: o.record_refund(usd(100), T1))

    delivered.when(lambda o: o.archive(T2)).then("StatusChanged")
    processing.when(lambda o: o.archive(T2)).then_error(TransitionGuardError)


def test_a_partially_shipped_order_ships_the_rest_after_a_partial_refund() -> None:
    spec = given(in_status(S.PARTIALLY_SHIPPED), lambda o: o.record_refund(usd(100), T1))

    [one] = spec.when(lambda o: o.record_shipment(uuid.uuid4(), [SkuQuantity(MUG, 1)], T2)).then(
        "ShipmentRecorded"
    )
    [rest] = spec.when(lambda o: o.record_shipment(uuid.uuid4(), None, T2)).then("ShipmentRecorded")

    assert (one["status"], rest["status"]) == (S.PARTIALLY_SHIPPED, S.SHIPPED)
    assert rest["lines"] == [SkuQuantity(TEE, 1)]


# -- disputes ----------------------------------------------------------------------------


def test_a_dispute_pauses_a_paid_order_and_a_won_dispute_returns_it() -> None:
    spec = given(in_status(S.PROCESSING))

    [opened] = spec.when(lambda o: o.open_dispute("fraudulent", T1, "stripe")).then("DisputeOpened")
    assert opened == {"reason": "fraudulent", "status": S.DISPUTED, "at": T1, "actor": "stripe"}
    assert spec.aggregate.disputed_from is S.PROCESSING

    [closed] = spec.when(lambda o: o.close_dispute(DisputeOutcome.WON, T2)).then("DisputeClosed")

    assert closed["status"] is S.PROCESSING
    assert closed["charged_back"] == usd(0)
    order = spec.aggregate
    assert (order.status, order.disputed_from, order.refunded) == (S.PROCESSING, None, usd(0))


def test_a_lost_dispute_charges_back_what_was_held_and_refunds_the_order() -> None:
    spec = given(paid_order(), lambda o: o.record_refund(usd(900), T1))
    spec.when(lambda o: o.open_dispute("not received", T1)).then("DisputeOpened")

    [closed] = spec.when(lambda o: o.close_dispute(DisputeOutcome.LOST, T2)).then("DisputeClosed")

    assert closed["charged_back"] == usd(4000)
    order = spec.aggregate
    assert (order.status, order.refunded, order.paid) == (S.REFUNDED, usd(4900), usd(4900))


def test_a_won_dispute_returns_a_partially_refunded_order_to_where_it_paused() -> None:
    spec = given(paid_order(), lambda o: o.record_refund(usd(900), T1))
    spec.when(lambda o: o.open_dispute("duplicate", T1)).then("DisputeOpened")
    spec.when(lambda o: o.close_dispute(DisputeOutcome.WON, T2)).then("DisputeClosed")

    assert spec.aggregate.status is S.PARTIALLY_REFUNDED
    spec.when(lambda o: o.change_status(S.PROCESSING, T2, "alice")).then("StatusChanged")


def test_a_cancelled_order_still_holding_money_can_be_disputed_and_returns_cancelled() -> None:
    spec = given(paid_order(), lambda o: o.cancel("customer asked", T1))

    spec.when(lambda o: o.open_dispute("fraudulent", T1)).then("DisputeOpened")
    spec.when(lambda o: o.close_dispute(DisputeOutcome.WON, T2)).then("DisputeClosed")

    assert spec.aggregate.status is S.CANCELLED


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.REFUNDED, S.ARCHIVED])
def test_only_an_order_holding_paid_money_can_be_disputed(status: OrderStatus) -> None:
    given(in_status(status)).when(lambda o: o.open_dispute("x", T2)).then_error(
        InvalidTransitionError
    )


def test_an_unpaid_cancelled_order_cannot_be_disputed() -> None:
    spec = given(new_order(), lambda o: o.cancel(None, T1))

    spec.when(lambda o: o.open_dispute("x", T2)).then_error(TransitionGuardError)


@pytest.mark.parametrize(
    "command",
    [
        lambda o: o.open_dispute("again", T2),
        lambda o: o.cancel("x", T2),
        lambda o: o.change_status(S.PROCESSING, T2, "alice"),
        lambda o: o.change_status(S.PAID, T2, "alice"),
        lambda o: o.record_shipment(uuid.uuid4(), None, T2),
    ],
)
def test_a_disputed_order_moves_only_by_closing_the_dispute(command: object) -> None:
    given(in_status(S.DISPUTED)).when(command).then_error(  # type: ignore[arg-type]
        InvalidTransitionError
    )


@pytest.mark.parametrize("status", [S.PAID, S.DELIVERED, S.CANCELLED])
def test_a_dispute_that_is_not_open_cannot_be_closed(status: OrderStatus) -> None:
    given(in_status(status)).when(lambda o: o.close_dispute(DisputeOutcome.WON, T2)).then_error(
        InvalidTransitionError
    )


def test_an_order_paid_after_a_failed_attempt_can_be_disputed() -> None:
    spec = given(new_order(), lambda o: o.mark_payment_failed("declined", T1), pay)

    spec.when(lambda o: o.open_dispute("fraudulent", T2)).then("DisputeOpened")
