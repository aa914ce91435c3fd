"""The transition table: its shape, and the rules the ADR states in words."""

from __future__ import annotations

import itertools

import pytest

from commerce_core.ordering.order import (
    AWAITING_PAYMENT,
    CANCELLABLE,
    COLLECTING_CASH,
    COMMAND_ONLY,
    REFUNDABLE,
    TRANSITIONS,
    UNPAID_FULFILMENT,
    OrderStatus,
    check_transition,
)
from commerce_core.shared.errors import InvalidTransitionError

S = OrderStatus
PAID_OR_LATER = {
    S.PAID,
    S.PROCESSING,
    S.READY_FOR_SHIPMENT,
    S.PARTIALLY_SHIPPED,
    S.SHIPPED,
    S.IN_TRANSIT,
    S.DELIVERED,
    S.PARTIALLY_REFUNDED,
}


def test_there_are_fourteen_statuses_and_the_table_covers_each() -> None:
    assert len(OrderStatus) == 14
    assert set(TRANSITIONS) == set(OrderStatus)
    assert all(status not in targets for status, targets in TRANSITIONS.items())


def test_check_transition_accepts_what_the_table_lists_and_refuses_the_rest() -> None:
    check_transition(S.PENDING_PAYMENT, S.PAID)

    with pytest.raises(InvalidTransitionError) as refused:
        check_transition(S.PENDING_PAYMENT, S.DELIVERED)

    assert (refused.value.current, refused.value.target) == ("pending_payment", "delivered")
    assert "pending_payment to delivered" in str(refused.value)


def test_the_happy_path_of_the_design_is_allowed_step_by_step() -> None:
    path = [
        S.PENDING_PAYMENT,
        S.PAID,
        S.PROCESSING,
        S.READY_FOR_SHIPMENT,
        S.SHIPPED,
        S.IN_TRANSIT,
        S.DELIVERED,
        S.ARCHIVED,
    ]
    for current, target in itertools.pairwise(path):
        check_transition(current, target)


def test_an_order_awaiting_payment_goes_to_fulfilment_only_on_the_cash_on_delivery_path() -> None:
    unpaid = {S.PROCESSING, S.READY_FOR_SHIPMENT, S.PARTIALLY_SHIPPED, S.SHIPPED}

    assert TRANSITIONS[S.PENDING_PAYMENT] == {S.PAID, S.PAYMENT_FAILED, S.CANCELLED} | unpaid
    assert unpaid == UNPAID_FULFILMENT  # guarded: cash-on-delivery orders only


def test_cash_is_collected_on_the_way_never_once_delivered_or_settled() -> None:
    on_the_way = {S.IN_TRANSIT, S.PARTIALLY_REFUNDED}

    assert AWAITING_PAYMENT | UNPAID_FULFILMENT | on_the_way == COLLECTING_CASH
    assert not COLLECTING_CASH & {S.PAID, S.DELIVERED, S.REFUNDED, S.CANCELLED, S.DISPUTED}


def test_a_failed_payment_can_be_retried_or_cancelled() -> None:
    assert TRANSITIONS[S.PAYMENT_FAILED] == {S.PAID, S.CANCELLED}


def test_cancelling_is_allowed_only_before_anything_ships() -> None:
    assert {s for s, t in TRANSITIONS.items() if S.CANCELLED in t} == CANCELLABLE | {
        S.PARTIALLY_REFUNDED,  # guarded: only when it paused before shipping
        S.DISPUTED,  # a won dispute of a cancelled order
    }
    assert not CANCELLABLE & {S.PARTIALLY_SHIPPED, S.SHIPPED, S.IN_TRANSIT, S.DELIVERED}


def test_any_paid_or_later_status_can_be_refunded_or_disputed() -> None:
    for status in PAID_OR_LATER:
        assert S.REFUNDED in TRANSITIONS[status]
        assert S.DISPUTED in TRANSITIONS[status]
        assert status in REFUNDABLE
    assert S.REFUNDED not in TRANSITIONS[S.PENDING_PAYMENT]


def test_a_dispute_can_return_to_every_status_it_can_come_from_or_end_refunded() -> None:
    came_from = {s for s, t in TRANSITIONS.items() if S.DISPUTED in t}

    assert TRANSITIONS[S.DISPUTED] == came_from | {S.REFUNDED}


def test_only_finished_orders_are_archived_and_archived_is_final() -> None:
    assert {s for s, t in TRANSITIONS.items() if S.ARCHIVED in t} == {
        S.DELIVERED,
        S.REFUNDED,
        S.CANCELLED,  # guarded: once its money is refunded
        S.PARTIALLY_REFUNDED,  # guarded: only when it paused after delivery
    }
    assert TRANSITIONS[S.ARCHIVED] == frozenset()


def test_every_status_is_reachable_from_pending_payment() -> None:
    seen, frontier = {S.PENDING_PAYMENT}, [S.PENDING_PAYMENT]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)

    assert seen == set(OrderStatus)


def test_statuses_set_by_their_own_command_are_named_with_it() -> None:
    assert set(COMMAND_ONLY) == {
        S.PAID,
        S.PARTIALLY_REFUNDED,
        S.REFUNDED,
        S.PARTIALLY_SHIPPED,
        S.SHIPPED,
        S.DISPUTED,
    }
