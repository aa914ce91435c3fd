"""Jobs: expired holds are released, unpaid orders cancelled; each is a no-op until due."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from commerce_core.ordering.order import SYSTEM, Order, OrderStatus
from commerce_core.payments.payment import PaymentStatus
from commerce_core.processes.order_jobs import auto_cancel_unpaid, expire_order_reservations
from commerce_core.shared.context import CommandContext
from tests.unit.shop import TENANT, Shop

S = OrderStatus
JOB = CommandContext(tenant_id=TENANT, actor=SYSTEM)


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", stock=5)
    return shop


async def expire(shop: Shop, order_id: UUID) -> bool:
    return await expire_order_reservations(shop.repo, shop.clock, JOB, order_id)


async def cancel_unpaid(shop: Shop, order_id: UUID, hours: int = 24) -> Order | None:
    return await auto_cancel_unpaid(shop.payment_services, JOB, order_id, hours)


async def test_expiring_before_the_hold_ends_does_nothing(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.clock.advance(timedelta(minutes=29))
    before = await shop.events()

    assert await expire(shop, order.id) is False
    assert await shop.events() == before


async def test_an_expired_hold_is_released_and_the_order_stays_payable(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.clock.advance(timedelta(minutes=30))

    assert await expire(shop, order.id) is True
    assert await expire(shop, order.id) is False

    assert (await shop.order(order.id)).status is S.PENDING_PAYMENT
    await shop.charge(order.id)
    assert (await shop.levels("MUG-1")).on_hand == 3


async def test_a_hold_extended_by_an_authorization_does_not_expire_with_the_first(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    await shop.authorize(order.id)
    shop.clock.advance(timedelta(hours=2))

    assert await expire(shop, order.id) is False
    assert (await shop.levels("MUG-1")).reserved == 2


async def test_an_order_unpaid_for_the_tenants_hours_is_cancelled(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.clock.advance(timedelta(hours=23, minutes=59))
    assert await cancel_unpaid(shop, order.id) is None

    shop.clock.advance(timedelta(minutes=1))
    cancelled = await cancel_unpaid(shop, order.id)

    assert cancelled is not None
    assert cancelled.status is S.CANCELLED
    assert (await shop.order(order.id)).status_history[-1].actor == SYSTEM
    assert (await shop.levels("MUG-1")).reserved == 0


async def test_a_paid_or_authorized_order_is_never_auto_cancelled(shop: Shop) -> None:
    paid = await shop.place(("MUG-1", 1))
    await shop.charge(paid.id)
    authorized = await shop.place(("MUG-1", 1))
    await shop.authorize(authorized.id)
    shop.clock.advance(timedelta(hours=48))

    assert await cancel_unpaid(shop, paid.id) is None
    assert await cancel_unpaid(shop, authorized.id) is None


async def test_auto_cancelling_voids_a_payment_left_waiting_for_3ds(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    waiting = await shop.authorize(order.id, "tok_3ds")
    shop.clock.advance(timedelta(hours=24))

    await cancel_unpaid(shop, order.id)

    assert (await shop.payment(waiting.payment.id)).status is PaymentStatus.VOIDED
