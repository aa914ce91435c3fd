"""Refunds: of a payment or of an order, never beyond what is left, with or without restock."""

from __future__ import annotations

import pytest

from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.payment import PaymentStatus, RefundStatus
from commerce_core.payments.refunds import NothingToRefundError
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.refunds import RefundExceedsCapturedError
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.shop import Shop, keyed, usd

S = OrderStatus
P = PaymentStatus


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    await shop.product("TEE-M", price=2000, stock=5)
    return shop


async def test_a_partial_refund_of_a_payment_is_recorded_on_payment_and_order(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)

    refund = await shop.refund_payment(charged.payment.id, 500)

    assert (refund.amount, refund.status, refund.order_id) == (
        usd(500),
        RefundStatus.SUCCEEDED,
        order.id,
    )
    payment = await shop.payment(charged.payment.id)
    assert (payment.status, payment.refunded) == (P.PARTIALLY_REFUNDED, usd(500))
    refunded = await shop.order(order.id)
    assert (refunded.status, refunded.refunded) == (S.PARTIALLY_REFUNDED, usd(500))


async def test_refunding_an_order_defaults_to_everything_refundable(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)
    await shop.refund_payment(charged.payment.id, 500)

    [refund] = await shop.refund_order(order.id)

    assert refund.amount == usd(1500)
    done = await shop.order(order.id)
    assert (done.status, done.refunded, done.paid) == (S.REFUNDED, usd(2000), usd(2000))


async def test_an_order_paid_in_two_payments_is_refunded_from_the_oldest_first(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)
    first = await shop.capture(authorized.payment.id, 1200)
    second = await shop.charge(order.id)

    refunds = await shop.refund_order(order.id, 1500)

    assert [(r.payment_id, r.amount) for r in refunds] == [
        (first.payment.id, usd(1200)),
        (second.payment.id, usd(300)),
    ]
    assert (await shop.order(order.id)).refunded == usd(1500)


async def test_a_refund_over_what_is_left_is_refused_and_records_nothing(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)
    await shop.refund_payment(charged.payment.id, 1500)
    before = await shop.events()

    with pytest.raises(RefundExceedsCapturedError):
        await shop.refund_payment(charged.payment.id, 501)
    with pytest.raises(RefundExceedsCapturedError):
        await shop.refund_order(order.id, 501)

    assert await shop.events() == before


async def test_an_unpaid_order_has_nothing_to_refund(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))

    with pytest.raises(NothingToRefundError):
        await shop.refund_order(order.id)


async def test_an_authorized_payment_cannot_be_refunded_only_voided(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)

    with pytest.raises(InvalidTransitionError):
        await shop.refund_payment(authorized.payment.id, 100)


async def test_a_refund_with_restock_puts_every_unit_back_once(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2), ("TEE-M", 1))
    await shop.charge(order.id)

    await shop.refund_order(order.id, 1000, restock=True)

    assert (await shop.levels("MUG-1")).on_hand == 5
    assert (await shop.levels("TEE-M")).on_hand == 5
    before = await shop.events()
    with pytest.raises(InvalidValueError):
        await shop.refund_order(
            order.id, 1000, restock=True, restock_lines=[SkuQuantity(Sku("MUG-1"), 1)]
        )
    assert await shop.events() == before


async def test_a_refund_may_restock_some_lines_only(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2), ("TEE-M", 1))
    await shop.charge(order.id)

    await shop.refund_order(
        order.id, 1000, restock=True, restock_lines=[SkuQuantity(Sku("MUG-1"), 1)]
    )

    assert (await shop.levels("MUG-1")).on_hand == 4
    assert (await shop.levels("TEE-M")).on_hand == 4


async def test_restock_lines_imply_a_restock(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2), ("TEE-M", 1))
    await shop.charge(order.id)

    await shop.refund_order(order.id, 1000, restock_lines=[SkuQuantity(Sku("MUG-1"), 1)])

    assert (await shop.levels("MUG-1")).on_hand == 4
    assert (await shop.levels("TEE-M")).on_hand == 4


async def test_empty_restock_lines_put_nothing_back(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.charge(order.id)

    await shop.refund_order(order.id, 1000, restock=True, restock_lines=[])

    assert (await shop.levels("MUG-1")).on_hand == 3


async def test_the_same_refund_command_again_returns_the_first_refund(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.charge(order.id)
    [first] = await shop.refund_order(order.id, 700, ctx=keyed("refund-1"))
    events = await shop.events()

    [again] = await shop.refund_order(order.id, 700, ctx=keyed("refund-1"))

    assert again.id == first.id
    assert await shop.events() == events
