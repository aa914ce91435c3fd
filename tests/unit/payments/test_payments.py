"""Paying for an order through the gateway: authorize, charge, capture, void, declines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from commerce_core.eventstore import RecordedEvent
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.ordering.order import OrderAlreadyPaidError, OrderStatus
from commerce_core.payments.payment import (
    CaptureExceedsAuthorizedError,
    PaymentDeclinedError,
    PaymentStatus,
)
from commerce_core.payments.ports.gateway import GatewayPayment
from commerce_core.payments.results import PaymentInFlightError
from commerce_core.payments.services import NothingToPayError, order_payments
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.shop import STAFF, TENANT, Shop, usd

S = OrderStatus
P = PaymentStatus


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


async def test_charging_records_the_intent_then_pays_the_order_and_takes_its_stock(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    before = len(await shop.events())
    seen_at_call: list[str] = []
    charge = shop.gateway.charge

    async def spy(*args: Any, **kwargs: Any) -> GatewayPayment:
        seen_at_call.extend(_names((await shop.events())[before:]))
        return await charge(*args, **kwargs)

    shop.gateway.charge = spy  # type: ignore[method-assign]

    result = await shop.charge(order.id)

    assert result.payment.status is P.CAPTURED
    assert result.payment.captured == usd(2000)
    assert result.payment.platform_fee == usd(60)  # 3 % of 20.00
    assert result.payment.gateway_fee == usd(88)  # the fake's 2.9 % + 0.30
    paid = await shop.order(order.id)
    assert (paid.status, paid.paid) == (S.PAID, usd(2000))
    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved) == (3, 0)
    # The decision and its intent were stored before the gateway was asked ...
    assert sorted(seen_at_call) == [
        "Order.PaymentRequested",
        "OrderLedger.PaymentAdded",
        "Payment.Created",
        "Payment.EffectRequested",
    ]
    # ... then the outcome and the order's payment in one append, which leaves the stock
    # alone, and the stock taken with the intent closed in a second one (ADR 0046).
    new = (await shop.events())[before:]
    after_call = [e for e in new if _name(e) not in seen_at_call]
    appends: dict[object, set[str]] = {}
    for event in after_call:
        appends.setdefault(event.position.tx_id, set()).add(_name(event))
    outcome, take = appends.values()
    assert {"Payment.Captured", "Payment.EffectAnswered", "Order.PaymentRecorded"} <= outcome
    assert not any(name.startswith("StockItem.") for name in outcome)
    assert take == {"StockItem.Committed", "OrderLedger.StockTaken", "Payment.EffectCompleted"}


def _name(event: RecordedEvent) -> str:
    return ".".join(event.type.rsplit(":", 1)[-1].split(".")[-2:])


def _names(events: list[RecordedEvent]) -> list[str]:
    return [_name(event) for event in events]


async def test_authorizing_holds_the_money_and_keeps_the_stock_held_until_it_lapses(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))

    result = await shop.authorize(order.id)

    assert (result.payment.status, result.payment.authorized) == (P.AUTHORIZED, usd(2000))
    assert (await shop.order(order.id)).status is S.PENDING_PAYMENT
    shop.clock.advance(timedelta(days=6))
    assert (await shop.levels("MUG-1")).reserved == 2


async def test_capturing_an_authorization_pays_the_order_days_later(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)
    shop.clock.advance(timedelta(days=3))

    captured = await shop.capture(authorized.payment.id)

    assert captured.payment.status is P.CAPTURED
    assert (await shop.order(order.id)).status is S.PAID
    assert (await shop.levels("MUG-1")).on_hand == 3


async def test_a_partial_capture_leaves_the_rest_owed_and_the_stock_held(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)

    await shop.capture(authorized.payment.id, 1500)

    partly = await shop.order(order.id)
    assert (partly.status, partly.paid, partly.outstanding) == (
        S.PENDING_PAYMENT,
        usd(1500),
        usd(500),
    )
    assert (await shop.levels("MUG-1")).reserved == 2
    rest = await shop.charge(order.id)
    assert rest.payment.amount == usd(500)
    assert (await shop.order(order.id)).status is S.PAID


async def test_a_capture_over_the_authorization_is_refused_before_the_gateway(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)
    before = await shop.events()

    with pytest.raises(CaptureExceedsAuthorizedError):
        await shop.capture(authorized.payment.id, 2001)

    assert await shop.events() == before


async def test_a_declined_card_is_recorded_then_refused_and_the_order_may_be_paid_again(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 1))

    with pytest.raises(PaymentDeclinedError) as declined:
        await shop.charge(order.id, "tok_insufficient_funds")

    assert declined.value.decline_code == "insufficient_funds"
    [failed] = await order_payments(shop.repo, TENANT, order.id)
    assert (failed.status, failed.decline_code) == (P.FAILED, "insufficient_funds")
    assert (await shop.order(order.id)).status is S.PAYMENT_FAILED
    await shop.charge(order.id)
    assert (await shop.order(order.id)).status is S.PAID


async def test_three_d_secure_returns_a_client_secret_that_is_never_stored(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))

    result = await shop.authorize(order.id, "tok_3ds")

    assert result.payment.status is P.PENDING
    assert result.payment.requires_action
    assert result.client_secret is not None
    stored = b"".join(event.data for event in await shop.events())
    assert result.client_secret.encode() not in stored


async def test_an_order_covered_by_an_open_authorization_owes_nothing_more(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    await shop.authorize(order.id)
    before = await shop.events()

    with pytest.raises(NothingToPayError):
        await shop.charge(order.id)

    assert await shop.events() == before
    assert shop.gateway.payment_count == 1


async def test_a_paid_order_cannot_be_paid_again(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    await shop.charge(order.id)

    with pytest.raises(OrderAlreadyPaidError):
        await shop.charge(order.id)


async def test_charging_after_the_stock_was_sold_elsewhere_is_refused_and_moves_no_money(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2), reservation_minutes=5)
    shop.clock.advance(timedelta(minutes=6))  # the hold lapsed ...
    await shop.place(("MUG-1", 5), customer=None)  # ... and someone bought everything
    before = await shop.events()

    with pytest.raises(InsufficientStockError):
        await shop.charge(order.id)

    assert await shop.events() == before
    assert shop.gateway.payment_count == 0


async def test_paying_after_the_hold_lapsed_takes_stock_afresh_while_there_is_some(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2), reservation_minutes=5)
    shop.clock.advance(timedelta(minutes=6))

    await shop.charge(order.id)

    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved) == (3, 0)


async def test_voiding_an_authorization_leaves_the_order_owing(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    authorized = await shop.authorize(order.id)

    voided = await shop.void(authorized.payment.id)

    assert voided.status is P.VOIDED
    assert (await shop.order(order.id)).status is S.PENDING_PAYMENT
    assert (await shop.charge(order.id)).payment.status is P.CAPTURED


async def test_voiding_a_captured_payment_is_refused(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    charged = await shop.charge(order.id)

    with pytest.raises(InvalidTransitionError):
        await shop.void(charged.payment.id)


async def test_the_payments_of_an_order_are_listed_oldest_first(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    with pytest.raises(PaymentDeclinedError):
        await shop.charge(order.id, "tok_declined")
    await shop.charge(order.id)

    listed = await order_payments(shop.repo, STAFF.tenant_id, order.id)

    assert [p.status for p in listed] == [P.FAILED, P.CAPTURED]
    assert (await shop.order(order.id)).lines[0].sku == Sku("MUG-1")
    assert SkuQuantity(Sku("MUG-1"), 1) in (await shop.repo.get(order.id)).lines_to_ship()


async def test_a_new_attempt_voids_a_payment_left_waiting_for_3ds(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    waiting = await shop.authorize(order.id, "tok_3ds")

    await shop.charge(order.id)

    assert (await shop.payment(waiting.payment.id)).status is P.VOIDED
    assert (await shop.order(order.id)).paid == usd(1000)


async def test_a_new_attempt_stops_if_the_waiting_payment_completed_meanwhile(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    waiting = await shop.charge(order.id, "tok_3ds")
    shop.gateway.complete_authentication(waiting.payment.gateway_payment_id or "")
    before = await shop.events()

    with pytest.raises(PaymentInFlightError):
        await shop.charge(order.id)

    assert await shop.events() == before
    assert shop.gateway.payment_count == 1
