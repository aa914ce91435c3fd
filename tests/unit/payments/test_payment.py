"""Payment: authorize, capture, charge, void, fail, 3-D Secure, and gateway event dedup."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import EventMapper, EventMetadata, Repository
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import (
    ALLOWED_TRANSITIONS,
    CaptureExceedsAuthorizedError,
    Payment,
    PaymentStatus,
)
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import PaymentMethod
from tests.unit.gwt import given

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
PAYMENT_ID = uuid.UUID("00000000-0000-0000-0000-00000000000f")
ORDER_ID = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
STARTER = FeeSchedule(basis_points=300)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def new_payment(amount: int = 10_000, schedule: FeeSchedule = STARTER) -> Payment:
    return Payment.create(PAYMENT_ID, "tenant-1", ORDER_ID, usd(amount), schedule, T0)


def authorized(amount: int = 10_000, schedule: FeeSchedule = STARTER) -> Payment:
    payment = new_payment(amount, schedule)
    payment.authorize("pi_1", T0)
    return payment


def test_a_new_payment_is_pending_with_nothing_taken() -> None:
    payment = new_payment()

    assert payment.id == PAYMENT_ID
    assert payment.status == PaymentStatus.PENDING
    assert (payment.order_id, payment.tenant_id, payment.gateway) == (
        ORDER_ID,
        "tenant-1",
        "stripe",
    )
    assert payment.method == PaymentMethod.CARD
    assert (payment.amount, payment.currency) == (usd(10_000), "USD")
    assert payment.captured == payment.refunded == payment.net_amount == usd(0)
    assert payment.platform_fee == payment.gateway_fee == usd(0)
    assert payment.gateway_payment_id is None
    assert payment.refunds == []


@pytest.mark.parametrize("cents", [0, -1])
def test_a_payment_needs_a_positive_amount(cents: int) -> None:
    with pytest.raises(InvalidValueError):
        new_payment(cents)


def test_authorizing_holds_the_full_amount() -> None:
    spec = given(new_payment())

    [payload] = spec.when(lambda p: p.authorize("pi_1", T1)).then("Authorized")

    assert payload == {
        "gateway_payment_id": "pi_1",
        "amount": usd(10_000),
        "at": T1,
        "event_ref": None,
    }
    assert spec.aggregate.status == PaymentStatus.AUTHORIZED
    assert spec.aggregate.authorized == spec.aggregate.capturable == usd(10_000)


def test_a_payment_is_authorized_once() -> None:
    error = given(authorized()).when(lambda p: p.authorize("pi_1", T1))

    raised = error.then_error(InvalidTransitionError)
    assert isinstance(raised, InvalidTransitionError)
    assert (raised.current, raised.target) == ("authorized", "authorized")


def test_3ds_keeps_the_payment_pending_until_the_customer_authenticates() -> None:
    spec = given(new_payment())

    spec.when(lambda p: p.require_action("pi_1", T0)).then("ActionRequired")
    assert spec.aggregate.status == PaymentStatus.PENDING
    assert spec.aggregate.requires_action is True

    spec.when(lambda p: p.authorize(None, T1)).then("Authorized")
    assert spec.aggregate.requires_action is False
    assert spec.aggregate.gateway_payment_id == "pi_1"


def test_a_decline_fails_the_payment_with_its_code() -> None:
    spec = given(new_payment())

    [payload] = spec.when(lambda p: p.fail("insufficient_funds", T1, "pi_1")).then("Failed")

    assert payload["decline_code"] == "insufficient_funds"
    assert spec.aggregate.status == PaymentStatus.FAILED
    assert spec.aggregate.decline_code == "insufficient_funds"
    spec.when(lambda p: p.authorize("pi_1", T1)).then_error(InvalidTransitionError)
    spec.when(lambda p: p.capture(T1)).then_error(InvalidTransitionError)


def test_an_authorization_or_a_pending_payment_can_be_voided() -> None:
    spec = given(authorized())
    spec.when(lambda p: p.void(T1)).then("Voided")
    assert spec.aggregate.status == PaymentStatus.VOIDED
    assert spec.aggregate.capturable == usd(0)
    spec.when(lambda p: p.capture(T1)).then_error(InvalidTransitionError)

    given(new_payment()).when(lambda p: p.void(T1)).then("Voided")


def test_nothing_captured_can_be_voided() -> None:
    spec = given(authorized(), lambda p: p.capture(T0, usd(100)))

    spec.when(lambda p: p.void(T1)).then_error(InvalidTransitionError)


def test_capturing_takes_money_and_charges_the_platform_fee() -> None:
    spec = given(authorized())

    [payload] = spec.when(lambda p: p.capture(T1, gateway_fee=usd(320))).then("Captured")

    assert payload == {
        "amount": usd(10_000),
        "gateway_fee": usd(320),
        "platform_fee": usd(300),
        "at": T1,
        "event_ref": None,
    }
    payment = spec.aggregate
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.captured == usd(10_000)
    assert payment.net_amount == usd(10_000 - 300 - 320)


def test_several_partial_captures_up_to_the_authorized_amount() -> None:
    spec = given(authorized(schedule=FeeSchedule(basis_points=150, fixed=30)))

    spec.when(lambda p: p.capture(T0, usd(3_333))).then("Captured")
    assert spec.aggregate.status == PaymentStatus.CAPTURED
    spec.when(lambda p: p.capture(T0, usd(3_333))).then("Captured")
    spec.when(lambda p: p.capture(T1)).then("Captured")  # the rest: 3,334

    payment = spec.aggregate
    assert payment.captured == usd(10_000)
    # the fixed fee once, the rate on the total: as if captured in one go
    assert payment.platform_fee == usd(150 + 30)
    assert payment.capturable == usd(0)


def test_capturing_more_than_is_left_is_refused() -> None:
    spec = given(authorized(), lambda p: p.capture(T0, usd(6_000)))

    error = spec.when(lambda p: p.capture(T1, usd(4_001))).then_error(CaptureExceedsAuthorizedError)

    assert isinstance(error, CaptureExceedsAuthorizedError)
    assert (error.requested, error.capturable) == (usd(4_001), usd(4_000))


@pytest.mark.parametrize("amount", [Money(0, "USD"), Money(-5, "USD"), Money(100, "EUR")])
def test_a_capture_is_a_positive_amount_in_the_payment_currency(amount: Money) -> None:
    given(authorized()).when(lambda p: p.capture(T1, amount)).then_error(InvalidValueError)


def test_nothing_is_captured_before_authorization() -> None:
    given(new_payment()).when(lambda p: p.capture(T1)).then_error(InvalidTransitionError)


def test_charging_authorizes_and_captures_at_once() -> None:
    spec = given(new_payment())

    spec.when(lambda p: p.charge("pi_1", T1, gateway_fee=usd(320))).then("Authorized", "Captured")

    assert spec.aggregate.status == PaymentStatus.CAPTURED
    assert spec.aggregate.captured == usd(10_000)


def test_a_charge_with_a_bad_fee_records_neither_event() -> None:
    spec = given(new_payment())

    spec.when(lambda p: p.charge("pi_1", T1, gateway_fee=Money(1, "EUR"))).then_error(
        InvalidValueError
    )
    assert spec.aggregate.status == PaymentStatus.PENDING


def test_a_cash_on_delivery_payment_is_charged_without_a_gateway_reference() -> None:
    payment = Payment.create(
        PAYMENT_ID, "t", ORDER_ID, usd(500), STARTER, T0, method="cash_on_delivery", gateway="cash"
    )

    given(payment).when(lambda p: p.charge(None, T1)).then("Authorized", "Captured")
    assert payment.method == PaymentMethod.CASH_ON_DELIVERY


def test_a_gateway_event_is_recorded_once() -> None:
    spec = given(authorized())

    spec.when(lambda p: p.capture(T1, usd(1_000), event_ref="evt_1")).then("Captured")
    spec.when(lambda p: p.capture(T1, usd(1_000), event_ref="evt_1")).then()
    # a reference already used by any command makes any other command with it a no-op
    spec.when(lambda p: p.void(T1, event_ref="evt_1")).then()

    assert spec.aggregate.captured == usd(1_000)
    assert "evt_1" in spec.aggregate.processed_refs
    assert spec.aggregate.already_processed("evt_1")
    assert spec.rebuilt().processed_refs == {"evt_1"}


def test_every_status_has_its_transitions_listed() -> None:
    assert set(ALLOWED_TRANSITIONS) == set(PaymentStatus)
    for targets in ALLOWED_TRANSITIONS.values():
        assert targets <= set(PaymentStatus)


def test_replaying_the_history_gives_the_same_payment() -> None:
    refund_id = uuid.UUID(int=7)
    spec = given(
        authorized(),
        lambda p: p.capture(T0, usd(8_000), gateway_fee=usd(262), event_ref="evt_1"),
        lambda p: p.refund(refund_id, usd(1_000), T1, "damaged"),
        lambda p: p.confirm_refund(refund_id, "re_1", T1),
        lambda p: p.open_dispute("dp_1", usd(2_000), "fraudulent", T1),
    )

    rebuilt = spec.rebuilt()

    assert vars(rebuilt) == vars(spec.aggregate)
    assert rebuilt.net_amount == spec.aggregate.net_amount


async def test_saves_and_loads_through_the_repository_and_from_a_snapshot() -> None:
    store = MemoryEventStore()
    repository = Repository(store, snapshot_every=2)
    payment = authorized()
    payment.capture(T0, usd(4_000), gateway_fee=usd(146), event_ref="evt_1")
    payment.refund(uuid.UUID(int=1), usd(500), T1, "late")
    await repository.save(payment, metadata=EventMetadata(tenant_id="tenant-1"))

    loaded = await repository.get(PAYMENT_ID, kind=Payment)
    snapshot = await store.load_snapshot(PAYMENT_ID)

    assert vars(loaded) == vars(payment)
    assert snapshot is not None
    assert snapshot.version == 4
    from_snapshot = EventMapper().from_snapshot(snapshot)
    assert isinstance(from_snapshot, Payment)
    assert vars(from_snapshot) | {"_pending_events": []} == vars(payment)
    assert from_snapshot.status is PaymentStatus.CAPTURED
    assert from_snapshot.refunds == payment.refunds
