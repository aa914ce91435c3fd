"""Cancelling an order: payments voided or refunded, stock freed, all in one append."""

from __future__ import annotations

from typing import Any

import pytest

from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.payment import PaymentStatus
from commerce_core.payments.ports.gateway import GatewayRefund
from commerce_core.payments.services import order_payments
from commerce_core.processes.shipping import CreateShipment, create_shipment
from commerce_core.shared.errors import InvalidTransitionError
from tests.unit.shop import STAFF, TENANT, Shop, usd

S = OrderStatus
P = PaymentStatus


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


async def test_cancelling_an_unpaid_order_frees_its_reservations(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 3))

    cancelled = await shop.cancel(order.id)

    assert cancelled.status is S.CANCELLED
    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved, levels.available) == (5, 0, 5)


async def test_cancelling_voids_an_authorization(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 3))
    authorized = await shop.authorize(order.id)

    await shop.cancel(order.id)

    assert (await shop.payment(authorized.payment.id)).status is P.VOIDED
    assert (await shop.levels("MUG-1")).reserved == 0


async def test_cancelling_a_paid_order_decides_everything_in_one_append_before_the_refund(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 3))
    charged = await shop.charge(order.id)
    before = len(await shop.events())
    at_refund: list[str] = []
    refund = shop.gateway.refund

    async def spy(*args: Any, **kwargs: Any) -> GatewayRefund:
        at_refund.extend(e.type.rsplit(".", 1)[-1] for e in (await shop.events())[before:])
        return await refund(*args, **kwargs)

    shop.gateway.refund = spy  # type: ignore[method-assign]

    cancelled = await shop.cancel(order.id)

    assert (cancelled.status, cancelled.refunded) == (S.CANCELLED, usd(3000))
    assert (await shop.payment(charged.payment.id)).status is P.REFUNDED
    assert (await shop.levels("MUG-1")).on_hand == 5
    # The cancellation, the refund's intent and the stock put back, in one append that
    # was stored before the gateway refunded; the outcome came after, in one more.
    assert {"Cancelled", "RefundRequested", "EffectRequested", "StockRestocked"} <= set(at_refund)
    new = (await shop.events())[before:]
    assert len({event.position.tx_id for event in new}) == 2


async def test_cancelling_after_a_partial_refund_refunds_the_rest(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 3))
    charged = await shop.charge(order.id)
    await shop.refund_payment(charged.payment.id, 1000)

    cancelled = await shop.cancel(order.id)

    assert (cancelled.status, cancelled.refunded) == (S.CANCELLED, usd(3000))


async def test_a_shipped_order_cannot_be_cancelled_and_nothing_moves(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 3))
    await shop.charge(order.id)
    await create_shipment(
        shop.shipping_services,
        STAFF,
        order.id,
        CreateShipment(carrier="ups", tracking_number="1Z1"),
    )
    before = await shop.events()

    with pytest.raises(InvalidTransitionError):
        await shop.cancel(order.id)

    assert await shop.events() == before
    [payment] = await order_payments(shop.repo, TENANT, order.id)
    assert payment.refunded == usd(0)


async def test_cancelling_twice_is_refused_the_second_time(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 3))
    await shop.cancel(order.id)

    with pytest.raises(InvalidTransitionError):
        await shop.cancel(order.id)
