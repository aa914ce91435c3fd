"""Retrying money commands never moves money twice: lost answers, failed saves, replays."""

from __future__ import annotations

import pytest

from commerce_core.eventstore import EventStoreError
from commerce_core.ordering.order import OrderStatus, PaymentInProgressError
from commerce_core.payments.payment import PaymentStatus
from commerce_core.payments.services import order_payments
from tests.unit.shop import TENANT, Shop, keyed, usd

S = OrderStatus
P = PaymentStatus


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


async def test_a_lost_gateway_answer_is_asked_again_with_the_same_key(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.gateway.lose_next_response()  # the charge happens, its answer is lost

    result = await shop.charge(order.id)

    assert shop.gateway.payment_count == 1
    assert result.payment.captured == usd(2000)
    assert (await shop.order(order.id)).paid == usd(2000)


async def test_a_charge_whose_save_failed_is_retried_without_charging_twice(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.store.failing_appends = 1  # the gateway charges, then our database is gone

    with pytest.raises(EventStoreError):
        await shop.charge(order.id, ctx=keyed("pay-1"))
    assert (await shop.order(order.id)).status is S.PENDING_PAYMENT
    result = await shop.charge(order.id, ctx=keyed("pay-1"))

    assert shop.gateway.payment_count == 1
    [payment] = await order_payments(shop.repo, TENANT, order.id)
    assert payment.id == result.payment.id
    assert payment.captured == usd(2000)
    assert (await shop.order(order.id)).paid == usd(2000)


async def test_a_gateway_that_never_answers_leaves_the_charge_pending_and_a_retry_completes(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 1))
    shop.gateway.lose_answers(3)  # as many as the command asks

    pending = await shop.charge(order.id, ctx=keyed("pay-2"))

    assert pending.pending
    assert pending.payment.status is P.PENDING
    assert [e.kind for e in pending.payment.open_effects] == ["charge"]
    with pytest.raises(PaymentInProgressError):  # no second charge while it is under way
        await shop.charge(order.id)
    done = await shop.charge(order.id, ctx=keyed("pay-2"))
    assert not done.pending
    assert done.payment.open_effects == []
    assert shop.gateway.payment_count == 1
    assert (await shop.order(order.id)).status is S.PAID


async def test_the_same_charge_command_again_returns_the_first_payment(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    first = await shop.charge(order.id, ctx=keyed("pay-3"))
    events = await shop.events()

    again = await shop.charge(order.id, ctx=keyed("pay-3"))

    assert again.payment.id == first.payment.id
    assert await shop.events() == events


async def test_a_capture_whose_save_failed_is_retried_without_capturing_twice(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)
    shop.store.failing_appends = 1

    with pytest.raises(EventStoreError):
        await shop.capture(authorized.payment.id, 1500)
    retried = await shop.capture(authorized.payment.id, 1500)

    assert retried.payment.captured == usd(1500)
    assert (await shop.order(order.id)).paid == usd(1500)


async def test_the_same_capture_command_again_changes_nothing(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)
    await shop.capture(authorized.payment.id, 1500, ctx=keyed("cap-1"))
    events = await shop.events()

    again = await shop.capture(authorized.payment.id, 1500, ctx=keyed("cap-1"))

    assert again.payment.captured == usd(1500)
    assert await shop.events() == events


async def test_a_refund_whose_save_failed_is_retried_without_refunding_twice(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)
    shop.store.failing_appends = 1

    with pytest.raises(EventStoreError):
        await shop.refund_payment(charged.payment.id, 500)
    refund = await shop.refund_payment(charged.payment.id, 500)

    payment = await shop.payment(charged.payment.id)
    assert (payment.refunded, payment.status) == (usd(500), P.PARTIALLY_REFUNDED)
    assert [r.id for r in payment.refunds] == [refund.id]
    # the gateway refunded once: what is left there is 15.00
    assert (await shop.gateway.retrieve(payment.gateway_payment_id or "")).refunded == usd(500)


async def test_a_cancel_whose_save_failed_is_retried_without_refunding_twice(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)
    shop.store.failing_appends = 1

    with pytest.raises(EventStoreError):
        await shop.cancel(order.id)
    cancelled = await shop.cancel(order.id)

    assert (cancelled.status, cancelled.refunded) == (S.CANCELLED, usd(2000))
    gateway_view = await shop.gateway.retrieve(charged.payment.gateway_payment_id or "")
    assert gateway_view.refunded == usd(2000)
