"""Order: placing, paying, failing, moving, cancelling and archiving, as specifications.

Refunds, disputes and shipments are in test_order_money.py and
test_order_shipping.py; the table itself in test_order_states.py.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
import pytest

from commerce_core.ordering.order import (
    CANCELLABLE,
    CommandRequiredError,
    LineSpec,
    Order,
    OrderStatus,
    OverpaymentError,
    PricingError,
    StatusChange,
    TransitionGuardError,
    price_order,
)
from commerce_core.shared.errors import (
    CurrencyMismatchError,
    InvalidTransitionError,
    InvalidValueError,
)
from commerce_core.shared.money import Money
from commerce_core.shared.pii import Encrypted
from commerce_core.shared.values import OrderNumber, SkuQuantity
from tests.unit.gwt import given
from tests.unit.ordering.order_builders import (
    CUSTOMER,
    MUG,
    ORDER_ID,
    PAYMENT,
    T0,
    T1,
    T2,
    in_status,
    new_order,
    paid_order,
    sealed,
    usd,
)

S = OrderStatus


# -- placing ------------------------------------------------------------------------------


def test_a_placed_order_awaits_payment_with_its_priced_lines_and_totals() -> None:
    order = new_order()
    spec = given(order)

    assert [type(e).__name__ for e in spec.history] == ["Placed"]
    assert order.id == ORDER_ID
    assert order.version == 1
    assert order.status is S.PENDING_PAYMENT
    assert order.number == "ORD-000001"
    assert order.customer_id == CUSTOMER
    assert [(line.sku, line.quantity, line.line_total) for line in order.lines] == [
        ("MUG-1", 2, usd(2000)),
        ("TEE-M", 1, usd(2000)),
    ]
    totals = order.totals
    assert (totals.subtotal, totals.discount, totals.tax, totals.shipping, totals.total) == (
        usd(4000),
        usd(0),
        usd(400),
        usd(500),
        usd(4900),
    )
    assert (order.paid, order.refunded, order.outstanding) == (usd(0), usd(0), usd(4900))
    assert order.created_at == order.updated_at == T0
    assert order.status_history == [StatusChange(S.PENDING_PAYMENT, T0, "system", None)]
    assert order.metadata == {"campaign": "spring"}
    assert spec.rebuilt().totals == totals


def test_placing_refuses_totals_that_do_not_add_up() -> None:
    priced = price_order([LineSpec(sku=MUG, name="Mug", quantity=1, unit_price=usd(1000))], "USD")
    forged = msgspec.structs.replace(priced.totals, total=usd(1))

    with pytest.raises(PricingError):
        Order.place(
            id=uuid.uuid4(),
            tenant_id="tenant-1",
            number=OrderNumber("ORD-000002"),
            customer_id=CUSTOMER,
            priced=msgspec.structs.replace(priced, totals=forged),
            at=T0,
        )


def _place(**changes: object) -> Order:
    priced = price_order([LineSpec(sku=MUG, name="Mug", quantity=1, unit_price=usd(1000))], "USD")
    arguments: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": "tenant-1",
        "number": OrderNumber("ORD-000002"),
        "customer_id": CUSTOMER,
        "priced": priced,
        "at": T0,
    }
    arguments.update(changes)
    return Order.place(**arguments)  # type: ignore[arg-type]


def test_placing_refuses_an_address_sealed_with_another_customers_key() -> None:
    with pytest.raises(InvalidValueError):
        _place(shipping_address=Encrypted(uuid.uuid4(), "sealed"))
    assert _place(billing_address=sealed()).billing_address == sealed()


@pytest.mark.parametrize(
    "changes",
    [
        {"at": datetime(2026, 1, 1)},
        {"reservation_expires_at": datetime(2026, 1, 1)},
        {"metadata": {f"k{n}": "v" for n in range(51)}},
        {"metadata": {"": "v"}},
        {"metadata": {"k": "v" * 501}},
    ],
)
def test_placing_refuses_naive_instants_and_oversized_metadata(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidValueError):
        _place(**changes)


# -- paying ------------------------------------------------------------------------------


def test_paying_the_total_makes_the_order_paid() -> None:
    spec = given(new_order())

    [payload] = spec.when(lambda o: o.mark_paid(usd(4900), PAYMENT, T1)).then("PaymentRecorded")

    assert payload == {
        "payment_id": PAYMENT,
        "amount": usd(4900),
        "status": S.PAID,
        "at": T1,
        "actor": "system",
    }
    order = spec.aggregate
    assert (order.status, order.paid, order.outstanding) == (S.PAID, usd(4900), usd(0))
    assert order.payment_ids == [PAYMENT]
    assert order.updated_at == T1
    assert order.status_history[-1] == StatusChange(S.PAID, T1, "system", None)


def test_partial_payments_add_up_and_the_last_one_makes_the_order_paid() -> None:
    spec = given(new_order())
    second = uuid.uuid4()

    [first] = spec.when(lambda o: o.mark_paid(usd(900), PAYMENT, T1)).then("PaymentRecorded")
    assert first["status"] is S.PENDING_PAYMENT
    assert spec.aggregate.outstanding == usd(4000)
    assert len(spec.aggregate.status_history) == 1

    [last] = spec.when(lambda o: o.mark_paid(usd(4000), second, T2)).then("PaymentRecorded")
    assert last["status"] is S.PAID
    assert spec.aggregate.payment_ids == [PAYMENT, second]


def test_a_payment_beyond_what_is_owed_is_refused() -> None:
    spec = given(new_order(), lambda o: o.mark_paid(usd(4000), PAYMENT, T1))

    error = spec.when(lambda o: o.mark_paid(usd(901), PAYMENT, T1)).then_error(OverpaymentError)

    assert isinstance(error, OverpaymentError)
    assert error.outstanding == usd(900)


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (usd(0), InvalidValueError),
        (usd(-5), InvalidValueError),
        (Money(4900, "EUR"), CurrencyMismatchError),
    ],
)
def test_a_payment_must_be_positive_and_in_the_order_currency(
    amount: Money, error: type[Exception]
) -> None:
    given(new_order()).when(lambda o: o.mark_paid(amount, PAYMENT, T1)).then_error(error)


def test_a_zero_payment_settles_an_order_that_costs_nothing() -> None:
    free = price_order([LineSpec(sku=MUG, name="Mug", quantity=1, unit_price=usd(0))], "USD")
    order = _place(priced=free)

    spec = given(order)
    spec.when(lambda o: o.mark_paid(usd(-1), PAYMENT, T1)).then_error(InvalidValueError)
    spec.when(lambda o: o.mark_paid(usd(0), PAYMENT, T1)).then("PaymentRecorded")

    assert order.status is S.PAID


@pytest.mark.parametrize(
    "status", [S.PAID, S.CANCELLED, S.SHIPPED, S.DISPUTED, S.PARTIALLY_REFUNDED, S.ARCHIVED]
)
def test_a_payment_is_refused_once_the_order_is_no_longer_awaiting_one(
    status: OrderStatus,
) -> None:
    spec = given(in_status(status))

    spec.when(lambda o: o.mark_paid(usd(1), PAYMENT, T2)).then_error(InvalidTransitionError)


# -- failing -----------------------------------------------------------------------------


def test_a_failed_payment_can_be_retried_until_paid() -> None:
    spec = given(new_order())

    [failed] = spec.when(lambda o: o.mark_payment_failed("card declined", T1, PAYMENT)).then(
        "PaymentFailed"
    )
    assert failed == {
        "payment_id": PAYMENT,
        "reason": "card declined",
        "status": S.PAYMENT_FAILED,
        "at": T1,
        "actor": "system",
    }
    spec.when(lambda o: o.mark_payment_failed("card declined again", T1)).then("PaymentFailed")
    spec.when(lambda o: o.mark_paid(usd(4900), uuid.uuid4(), T2)).then("PaymentRecorded")

    statuses = [change.status for change in spec.aggregate.status_history]
    assert statuses == [S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.PAID]
    assert spec.aggregate.status_history[1].reason == "card declined"


def test_a_payment_cannot_fail_after_the_order_is_paid() -> None:
    spec = given(paid_order())

    spec.when(lambda o: o.mark_payment_failed("late", T2)).then_error(InvalidTransitionError)


# -- changing status by hand -------------------------------------------------------------


def test_staff_move_a_paid_order_through_processing_to_ready_for_shipment() -> None:
    spec = given(paid_order())

    [payload] = spec.when(lambda o: o.change_status(S.PROCESSING, T2, "alice", "picking")).then(
        "StatusChanged"
    )
    spec.when(lambda o: o.change_status(S.READY_FOR_SHIPMENT, T2, "bob")).then("StatusChanged")

    assert payload == {"status": S.PROCESSING, "at": T2, "actor": "alice", "reason": "picking"}
    assert spec.aggregate.status_history[-2:] == [
        StatusChange(S.PROCESSING, T2, "alice", "picking"),
        StatusChange(S.READY_FOR_SHIPMENT, T2, "bob", None),
    ]


@pytest.mark.parametrize(
    ("status", "target"),
    [
        (S.PENDING_PAYMENT, S.IN_TRANSIT),
        (S.PAID, S.PAID),
        (S.READY_FOR_SHIPMENT, S.PROCESSING),
        (S.DELIVERED, S.IN_TRANSIT),
        (S.SHIPPED, S.ARCHIVED),
        (S.ARCHIVED, S.DELIVERED),
    ],
)
def test_a_change_the_table_does_not_allow_is_refused(
    status: OrderStatus, target: OrderStatus
) -> None:
    spec = given(in_status(status))

    error = spec.when(lambda o: o.change_status(target, T2, "alice")).then_error(
        InvalidTransitionError
    )

    assert not isinstance(error, TransitionGuardError)
    assert not spec.aggregate.can_change_to(target)


@pytest.mark.parametrize(
    ("status", "target", "recorded"),
    [
        (S.PENDING_PAYMENT, S.PAID, "a payment"),
        (S.PAID, S.SHIPPED, "a shipment"),
        (S.PAID, S.PARTIALLY_REFUNDED, "a refund"),
        (S.DELIVERED, S.REFUNDED, "a refund"),
        (S.PAID, S.DISPUTED, "a dispute"),
    ],
)
def test_statuses_that_need_more_than_a_reason_are_set_by_their_own_command(
    status: OrderStatus, target: OrderStatus, recorded: str
) -> None:
    spec = given(in_status(status))

    error = spec.when(lambda o: o.change_status(target, T2, "alice")).then_error(
        CommandRequiredError
    )

    assert isinstance(error, CommandRequiredError)
    assert error.recorded == recorded
    assert error.name == spec.aggregate.number  # the order as people know it
    assert f"only recording {recorded}" in str(error)
    assert "_" not in str(error).split(": ", 1)[1]  # no method names of the code


def test_changing_status_to_cancelled_cancels_the_order() -> None:
    spec = given(paid_order())

    [payload] = spec.when(lambda o: o.change_status(S.CANCELLED, T2, "alice", "fraud")).then(
        "Cancelled"
    )

    assert payload == {"reason": "fraud", "status": S.CANCELLED, "at": T2, "actor": "alice"}


def test_a_status_may_be_given_by_its_value_and_an_unknown_one_is_refused() -> None:
    spec = given(paid_order())

    spec.when(lambda o: o.change_status("processing", T2, "alice")).then(  # type: ignore[arg-type]
        "StatusChanged"
    )
    spec.when(lambda o: o.change_status("lost", T2, "alice")).then_error(  # type: ignore[arg-type]
        InvalidValueError
    )

    assert spec.aggregate.status is S.PROCESSING
    assert not spec.aggregate.can_change_to("lost")  # type: ignore[arg-type]


def test_can_change_to_answers_what_change_status_would_accept() -> None:
    order = paid_order()

    accepted = {target for target in S if order.can_change_to(target)}

    assert accepted == {S.PROCESSING, S.READY_FOR_SHIPMENT, S.CANCELLED}


# -- cancelling --------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(CANCELLABLE))
def test_an_order_that_has_not_shipped_can_be_cancelled(status: OrderStatus) -> None:
    spec = given(in_status(status))
    paid_before = spec.aggregate.paid

    spec.when(lambda o: o.cancel("out of stock", T2, "alice")).then("Cancelled")

    order = spec.aggregate
    assert order.status is S.CANCELLED
    assert order.status_history[-1] == StatusChange(S.CANCELLED, T2, "alice", "out of stock")
    # money already paid stays recorded until it is refunded
    assert order.paid == paid_before


@pytest.mark.parametrize(
    "status",
    [
        S.PARTIALLY_SHIPPED,
        S.SHIPPED,
        S.IN_TRANSIT,
        S.DELIVERED,
        S.CANCELLED,
        S.REFUNDED,
        S.ARCHIVED,
    ],
)
def test_an_order_cannot_be_cancelled_once_shipped_or_finished(status: OrderStatus) -> None:
    given(in_status(status)).when(lambda o: o.cancel("too late", T2)).then_error(
        InvalidTransitionError
    )


# -- delivering and archiving ------------------------------------------------------------


@pytest.mark.parametrize("status", [S.SHIPPED, S.IN_TRANSIT])
def test_a_shipped_order_is_delivered(status: OrderStatus) -> None:
    spec = given(in_status(status))

    [payload] = spec.when(lambda o: o.mark_delivered(T2, "carrier")).then("StatusChanged")

    assert payload["status"] is S.DELIVERED
    assert spec.aggregate.status is S.DELIVERED


@pytest.mark.parametrize("status", [S.PAID, S.PARTIALLY_SHIPPED])
def test_an_order_not_fully_shipped_cannot_be_delivered(status: OrderStatus) -> None:
    given(in_status(status)).when(lambda o: o.mark_delivered(T2)).then_error(InvalidTransitionError)


@pytest.mark.parametrize("status", [S.DELIVERED, S.REFUNDED])
def test_finished_orders_are_archived(status: OrderStatus) -> None:
    spec = given(in_status(status))

    spec.when(lambda o: o.archive(T2, "job")).then("StatusChanged")

    assert spec.aggregate.status is S.ARCHIVED


def test_a_cancelled_order_is_archived_only_once_its_money_is_refunded() -> None:
    spec = given(paid_order(), lambda o: o.cancel("changed mind", T1))

    error = spec.when(lambda o: o.archive(T2)).then_error(TransitionGuardError)
    assert "refunded" in str(error)

    spec.when(lambda o: o.record_refund(o.refundable, T2)).then("RefundRecorded")
    assert spec.aggregate.status is S.CANCELLED
    spec.when(lambda o: o.archive(T2)).then("StatusChanged")


def test_an_unpaid_cancelled_order_is_archived_at_once() -> None:
    spec = given(new_order(), lambda o: o.cancel(None, T1))

    spec.when(lambda o: o.archive(T2)).then("StatusChanged")


@pytest.mark.parametrize(
    "command",
    [
        lambda o: o.mark_paid(usd(1), PAYMENT, T2),
        lambda o: o.cancel("late", T2),
        lambda o: o.record_refund(usd(1), T2),
        lambda o: o.open_dispute("late", T2),
        lambda o: o.change_status(S.DELIVERED, T2, "alice"),
        lambda o: o.record_shipment(uuid.uuid4(), [SkuQuantity(MUG, 1)], T2),
        lambda o: o.archive(T2),
    ],
)
def test_an_archived_order_accepts_no_command(command: object) -> None:
    spec = given(in_status(S.ARCHIVED))

    spec.when(command).then_error(InvalidTransitionError)  # type: ignore[arg-type]


def test_commands_refuse_naive_instants() -> None:
    spec = given(new_order())

    spec.when(lambda o: o.mark_paid(usd(4900), PAYMENT, datetime(2026, 1, 1))).then_error(
        InvalidValueError
    )
