"""The status map between our orders and a POS's fulfilment states."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from commerce_core.channels.ports import PosFulfilmentKind, PosFulfilmentState
from commerce_core.channels.status_map import TO_POS, forward, from_pos, mirrored, to_pos
from commerce_core.ordering.order.states import OrderStatus

statuses = st.sampled_from(OrderStatus)
states = st.sampled_from(PosFulfilmentState)
kinds = st.sampled_from(PosFulfilmentKind)


def test_every_status_of_ours_has_a_row() -> None:
    assert set(TO_POS) == set(OrderStatus)


@given(statuses, kinds)
def test_the_echo_of_our_own_change_is_nothing_to_do(
    status: OrderStatus, kind: PosFulfilmentKind
) -> None:
    state = to_pos(status, kind)

    if state is not None:
        assert mirrored(status, state, kind) is None


@given(statuses, states, kinds)
def test_a_pos_change_never_moves_an_order_backwards(
    status: OrderStatus, state: PosFulfilmentState, kind: PosFulfilmentKind
) -> None:
    target = mirrored(status, state, kind)

    assert target is None or forward(status, target)
    assert target is None or not forward(target, status)


def test_a_pickup_completed_at_the_counter_is_delivered_a_shipment_is_shipped() -> None:
    completed = PosFulfilmentState.COMPLETED

    assert from_pos(completed, PosFulfilmentKind.PICKUP) is OrderStatus.DELIVERED
    assert from_pos(completed, PosFulfilmentKind.SHIPMENT) is OrderStatus.SHIPPED


def test_staff_preparing_a_paid_web_order_makes_it_ready() -> None:
    assert (
        mirrored(OrderStatus.PAID, PosFulfilmentState.PREPARED, PosFulfilmentKind.PICKUP)
        is OrderStatus.READY_FOR_SHIPMENT
    )


def test_a_cancellation_at_the_till_cancels_an_open_order_but_not_a_delivered_one() -> None:
    canceled, pickup = PosFulfilmentState.CANCELED, PosFulfilmentKind.PICKUP

    assert mirrored(OrderStatus.PROCESSING, canceled, pickup) is OrderStatus.CANCELLED
    assert mirrored(OrderStatus.DELIVERED, canceled, pickup) is None


@given(statuses, states, kinds)
def test_a_pos_never_touches_an_order_paused_by_money(
    status: OrderStatus, state: PosFulfilmentState, kind: PosFulfilmentKind
) -> None:
    paused = {OrderStatus.PARTIALLY_REFUNDED, OrderStatus.DISPUTED, OrderStatus.REFUNDED}

    if status in paused | {OrderStatus.ARCHIVED, OrderStatus.CANCELLED}:
        assert mirrored(status, state, kind) is None


def test_a_failed_fulfilment_is_left_to_a_person() -> None:
    for kind in PosFulfilmentKind:
        assert from_pos(PosFulfilmentState.FAILED, kind) is None
