"""Cash on delivery: confirmed and shipped unpaid, paid as parcels are delivered, and
each parcel's share of the total adds up to the total exactly."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from hypothesis import given as examples
from hypothesis import strategies as st

from commerce_core.ordering.order import (
    Discount,
    LineSpec,
    Order,
    OrderStatus,
    OverpaymentError,
    TransitionGuardError,
    price_order,
)
from commerce_core.ordering.order.cash_on_delivery import cash_due, shipment_shares
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.values import OrderNumber, PaymentMethod, Sku, SkuQuantity
from tests.unit.gwt import given
from tests.unit.ordering.order_builders import CUSTOMER, MUG, T1, T2, TEE, new_order, usd

S = OrderStatus
COD = PaymentMethod.CASH_ON_DELIVERY
PAYMENT = uuid.UUID("00000000-0000-0000-0000-0000000000c0")


def cod_order() -> Order:
    """2 mugs at 10.00 and 1 tee at 20.00, 10 % tax, 5.00 shipping: 49.00, paid to the courier."""
    return new_order(payment_method=COD)


def ship(*lines: SkuQuantity) -> Callable[[Order], None]:
    return lambda o: o.record_shipment(uuid.uuid4(), list(lines) or None, T1, "staff")


def collect(amount: int) -> Callable[[Order], None]:
    return lambda o: o.mark_paid(usd(amount), uuid.uuid4(), T1, "courier")


def test_a_cash_on_delivery_order_is_confirmed_without_payment() -> None:
    spec = given(cod_order())

    [changed] = spec.when(lambda o: o.change_status(S.PROCESSING, T1, "staff")).then(
        "StatusChanged"
    )

    assert changed["status"] is S.PROCESSING
    assert spec.aggregate.paid == usd(0)


@pytest.mark.parametrize("method", [None, PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER])
def test_any_other_order_is_paid_before_it_is_confirmed_or_shipped(
    method: PaymentMethod | None,
) -> None:
    spec = given(new_order(payment_method=method))

    refused = spec.when(lambda o: o.change_status(S.PROCESSING, T1, "staff")).then_error(
        TransitionGuardError
    )
    spec.when(ship()).then_error(TransitionGuardError)

    assert "not paid" in str(refused)
    assert not spec.aggregate.can_change_to(S.READY_FOR_SHIPMENT)


def test_a_cash_on_delivery_order_ships_unpaid_whole_or_in_parts() -> None:
    spec = given(cod_order(), lambda o: o.change_status(S.READY_FOR_SHIPMENT, T1, "staff"))

    spec.when(ship(SkuQuantity(MUG, 1))).then("ShipmentRecorded")
    assert spec.aggregate.status is S.PARTIALLY_SHIPPED
    spec.when(ship()).then("ShipmentRecorded")

    assert (spec.aggregate.status, spec.aggregate.paid) == (S.SHIPPED, usd(0))
    assert spec.rebuilt().status is S.SHIPPED


def test_cash_collected_on_the_way_is_recorded_without_moving_the_order() -> None:
    spec = given(cod_order(), ship(SkuQuantity(TEE, 1)))

    [recorded] = spec.when(collect(2200)).then("PaymentRecorded")

    assert recorded["status"] is S.PARTIALLY_SHIPPED
    assert (spec.aggregate.paid, spec.aggregate.outstanding) == (usd(2200), usd(2700))
    assert [c.status for c in spec.aggregate.status_history] == [
        S.PENDING_PAYMENT,
        S.PARTIALLY_SHIPPED,
    ]


def test_an_order_is_delivered_only_once_its_cash_is_collected() -> None:
    spec = given(cod_order(), ship(), collect(4000))

    refused = spec.when(lambda o: o.mark_delivered(T2)).then_error(TransitionGuardError)
    assert "not collected" in str(refused)
    assert not spec.aggregate.can_change_to(S.DELIVERED)

    spec.when(collect(900)).then("PaymentRecorded")
    spec.when(lambda o: o.mark_delivered(T2, "courier", "cash collected")).then("StatusChanged")

    assert (spec.aggregate.status, spec.aggregate.paid) == (S.DELIVERED, usd(4900))


def test_more_cash_than_the_order_owes_is_refused() -> None:
    spec = given(cod_order(), ship(), collect(4000))

    spec.when(collect(901)).then_error(OverpaymentError)


def test_a_delivered_or_cancelled_order_takes_no_more_cash() -> None:
    delivered = given(cod_order(), ship(), collect(4900), lambda o: o.mark_delivered(T2))
    cancelled = given(cod_order(), lambda o: o.cancel("changed mind", T1))

    delivered.when(collect(1)).then_error(InvalidTransitionError)
    cancelled.when(collect(1)).then_error(InvalidTransitionError)


def test_cash_at_the_counter_before_shipping_pays_the_order_as_usual() -> None:
    spec = given(cod_order())

    [recorded] = spec.when(collect(4900)).then("PaymentRecorded")

    assert recorded["status"] is S.PAID


def test_refunding_what_was_collected_while_parcels_are_out_is_a_partial_refund() -> None:
    spec = given(cod_order(), ship(SkuQuantity(MUG, 2)), collect(2300))

    [refund] = spec.when(lambda o: o.record_refund(usd(2300), T2)).then("RefundRecorded")

    assert refund["status"] is S.PARTIALLY_REFUNDED
    spec.when(ship()).then("ShipmentRecorded")  # the rest still goes, as it paused
    spec.when(collect(2600)).then("PaymentRecorded")
    spec.when(lambda o: o.change_status(S.DELIVERED, T2, "courier")).then("StatusChanged")


def test_the_shares_of_two_parcels_are_their_lines_part_of_the_total() -> None:
    order = cod_order()  # mugs 22.00 and tee 22.00 with tax; 5.00 shipping split by line totals

    shares = shipment_shares(
        order, [[SkuQuantity(MUG, 1)], [SkuQuantity(TEE, 1), SkuQuantity(MUG, 1)]]
    )

    assert shares == [usd(1225), usd(3675)]
    assert sum(s.amount for s in shares) == order.totals.total.amount


def test_the_last_collection_takes_what_is_still_owed() -> None:
    order = given(cod_order(), ship(), collect(1000)).aggregate

    assert cash_due(order, usd(1225), settles=False) == usd(1225)
    assert cash_due(order, usd(1225), settles=True) == usd(3900)
    assert cash_due(order, usd(5000), settles=False) == usd(3900)


# Invariant: however an order is split into parcels and in whatever order they arrive,
# the cash collected adds up to the total, exactly.

skus = [Sku(f"SKU-{n}") for n in range(4)]


@st.composite
def orders_and_parcels(draw: st.DrawFn) -> tuple[Order, list[list[SkuQuantity]]]:
    count = draw(st.integers(1, len(skus)))
    specs = [
        LineSpec(
            sku=sku,
            name=sku,
            quantity=draw(st.integers(1, 7)),
            unit_price=usd(draw(st.integers(0, 9999))),
            tax_rate_bps=draw(st.sampled_from([0, 700, 1000, 2000])),
        )
        for sku in skus[:count]
    ]
    discounts = draw(st.sampled_from([[], [Discount.percent(1500)], [Discount.fixed(usd(333))]]))
    priced = price_order(
        specs, "USD", discounts=discounts, shipping=usd(draw(st.integers(0, 1500)))
    )
    order = Order.place(
        id=uuid.uuid4(),
        tenant_id="tenant-1",
        number=OrderNumber("ORD-000001"),
        customer_id=CUSTOMER,
        priced=priced,
        at=T1,
        payment_method=COD,
    )
    units = [line.sku for line in order.lines for _ in range(line.quantity)]
    units = draw(st.permutations(units))
    cuts = sorted(draw(st.sets(st.integers(1, max(len(units) - 1, 1)), max_size=4)))
    parcels = [units[a:b] for a, b in zip([0, *cuts], [*cuts, len(units)], strict=True) if b > a]
    return order, [
        [SkuQuantity(sku, parcel.count(sku)) for sku in dict.fromkeys(parcel)] for parcel in parcels
    ]


@examples(orders_and_parcels())
def test_the_shares_of_a_fully_shipped_order_add_up_to_its_total(
    drawn: tuple[Order, list[list[SkuQuantity]]],
) -> None:
    order, parcels = drawn

    shares = shipment_shares(order, parcels)

    assert all(share.amount >= 0 for share in shares)
    assert sum(share.amount for share in shares) == order.totals.total.amount
    for made in range(1, len(parcels)):  # a parcel's share does not move as more are made
        assert shipment_shares(order, parcels[:made]) == shares[:made]


@examples(orders_and_parcels(), st.data())
def test_the_cash_collected_parcel_by_parcel_is_the_total(
    drawn: tuple[Order, list[list[SkuQuantity]]], data: st.DataObject
) -> None:
    order, parcels = drawn
    order.change_status(S.PROCESSING, T1, "staff")
    for parcel in parcels:
        order.record_shipment(uuid.uuid4(), parcel, T1, "staff")
    shares = shipment_shares(order, parcels)
    by_hand = data.draw(st.integers(0, order.totals.total.amount), label="cash taken by hand")
    if by_hand:
        order.mark_paid(usd(by_hand), uuid.uuid4(), T1, "staff")
    arrivals = data.draw(st.permutations(range(len(parcels))), label="delivery order")

    collected = []
    for count, arrived in enumerate(arrivals, start=1):
        due = cash_due(order, shares[arrived], settles=count == len(parcels))
        if due.amount:
            order.mark_paid(due, uuid.uuid4(), T2, "courier")
        collected.append(due)
    order.mark_delivered(T2)

    assert all(due.amount >= 0 for due in collected)
    assert by_hand + sum(due.amount for due in collected) == order.totals.total.amount
    assert (order.status, order.outstanding) == (S.DELIVERED, usd(0))
    if not by_hand:
        assert collected == [shares[parcel] for parcel in arrivals]
