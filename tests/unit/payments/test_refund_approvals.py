"""Refunds that wait for an admin: held by the cumulative threshold, approved or rejected."""

from __future__ import annotations

import dataclasses

import pytest

from commerce_core.eventstore import AggregateNotFoundError
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.payment import PaymentStatus, RefundStatus
from commerce_core.payments.refund_approvals import approve_refund, reject_refund
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.refunds import RefundExceedsCapturedError
from tests.unit.shop import STAFF, TENANT, Shop, usd

# a staff key of a tenant whose threshold is 1,000 (minor units)
LIMITED = dataclasses.replace(STAFF, refund_approval_above=1_000)
ADMIN = CommandContext(tenant_id=TENANT, actor="admin-1")


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


async def test_refunds_are_held_once_the_order_s_refunds_would_pass_the_threshold(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)

    [first] = await shop.refund_order(order.id, 600, ctx=LIMITED)
    [second] = await shop.refund_order(order.id, 600, ctx=LIMITED)
    third = await shop.refund_payment(charged.payment.id, 300, ctx=LIMITED)

    assert [r.status for r in (first, second, third)] == [
        RefundStatus.SUCCEEDED,
        RefundStatus.PENDING_APPROVAL,
        RefundStatus.PENDING_APPROVAL,  # cumulative: the one awaiting approval counts
    ]
    assert [r.amount for r in shop.gateway.refunds_made()] == [usd(600)]
    payment = await shop.payment(charged.payment.id)
    assert (payment.refunded, payment.refund_pending, payment.refunds_asked) == (
        usd(600),
        usd(0),
        usd(1_500),
    )
    assert (await shop.order(order.id)).refunded == usd(600)


async def test_up_to_the_threshold_itself_refunds_run(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.charge(order.id)

    refunds = [*await shop.refund_order(order.id, 400, ctx=LIMITED)]
    refunds += await shop.refund_order(order.id, 600, ctx=LIMITED)

    assert [r.status for r in refunds] == [RefundStatus.SUCCEEDED] * 2


async def test_a_retried_held_refund_answers_the_same_refund(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.charge(order.id)
    keyed = dataclasses.replace(LIMITED, idempotency_key="k-1")

    [held] = await shop.refund_order(order.id, 1_500, ctx=keyed)
    [again] = await shop.refund_order(order.id, 1_500, ctx=keyed)

    assert again == held
    assert held.status is RefundStatus.PENDING_APPROVAL
    assert shop.gateway.refunds_made() == []


async def test_an_approved_refund_runs_once_and_reaches_the_order(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.charge(order.id)
    [held] = await shop.refund_order(order.id, 1_500, ctx=LIMITED)

    approved = await approve_refund(shop.payment_services, ADMIN, held.id)

    assert (approved.id, approved.status, approved.amount) == (
        held.id,
        RefundStatus.SUCCEEDED,
        usd(1_500),
    )
    with pytest.raises(InvalidTransitionError):
        await approve_refund(shop.payment_services, ADMIN, held.id)
    assert [r.amount for r in shop.gateway.refunds_made()] == [usd(1_500)]
    refunded = await shop.order(order.id)
    assert (refunded.status, refunded.refunded) == (OrderStatus.PARTIALLY_REFUNDED, usd(1_500))


async def test_a_rejected_refund_moves_nothing(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)
    [held] = await shop.refund_order(order.id, 1_500, ctx=LIMITED)

    rejected = await reject_refund(shop.payment_services, ADMIN, held.id, "not returned")

    assert rejected.status is RefundStatus.REJECTED
    with pytest.raises(InvalidTransitionError):
        await approve_refund(shop.payment_services, ADMIN, held.id)
    assert shop.gateway.refunds_made() == []
    payment = await shop.payment(charged.payment.id)
    assert (payment.status, payment.refunds_asked) == (PaymentStatus.CAPTURED, usd(0))


async def test_approving_what_was_refunded_meanwhile_is_refused(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.charge(order.id)
    [held] = await shop.refund_order(order.id, 1_500, ctx=LIMITED)
    await shop.refund_order(order.id, ctx=ADMIN)  # everything, directly

    with pytest.raises(RefundExceedsCapturedError):
        await approve_refund(shop.payment_services, ADMIN, held.id)
    assert [r.amount for r in shop.gateway.refunds_made()] == [usd(2_000)]


async def test_another_tenant_finds_no_refund_to_decide(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.charge(order.id)
    [held] = await shop.refund_order(order.id, 1_500, ctx=LIMITED)
    other = CommandContext(tenant_id="tenant-2", actor="admin-2")

    with pytest.raises(AggregateNotFoundError):
        await approve_refund(shop.payment_services, other, held.id)
    with pytest.raises(AggregateNotFoundError):
        await reject_refund(shop.payment_services, other, held.id, "x")
    assert (await shop.payment(held.payment_id)).refunds[0].status is RefundStatus.PENDING_APPROVAL


async def test_a_limited_cancel_cancels_and_holds_the_refund(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)

    cancelled = await shop.cancel(order.id, ctx=LIMITED)

    assert (cancelled.status, cancelled.refunded) == (OrderStatus.CANCELLED, usd(0))
    assert (await shop.levels("MUG-1")).available == 5
    assert shop.gateway.refunds_made() == []
    [held] = (await shop.payment(charged.payment.id)).refunds
    assert (held.status, held.amount) == (RefundStatus.PENDING_APPROVAL, usd(2_000))

    await approve_refund(shop.payment_services, ADMIN, held.id)

    after = await shop.order(order.id)
    assert (after.status, after.refunded) == (OrderStatus.CANCELLED, usd(2_000))
    assert [r.amount for r in shop.gateway.refunds_made()] == [usd(2_000)]


async def test_a_cancel_within_the_threshold_refunds_at_once(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    await shop.charge(order.id)

    cancelled = await shop.cancel(order.id, ctx=LIMITED)

    assert (cancelled.status, cancelled.refunded) == (OrderStatus.CANCELLED, usd(1_000))
