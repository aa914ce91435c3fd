"""Gateway events: recorded once per event id, and once per change whatever their order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from commerce_core.eventstore import AggregateNotFoundError
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import SYSTEM, DisputeOutcome, Order, OrderStatus
from commerce_core.payments.payment import DisputeStatus, Payment, PaymentStatus, RefundStatus
from commerce_core.payments.ports.webhooks import GatewayEvent, GatewayEventKind
from commerce_core.payments.webhooks.events import GatewayEventOutcome, record_gateway_event
from commerce_core.shared.context import CommandContext
from tests.unit.shop import TENANT, Shop, usd

K = GatewayEventKind
S = OrderStatus
P = PaymentStatus
WEBHOOK = CommandContext(tenant_id=TENANT, actor=SYSTEM)


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


async def deliver(
    shop: Shop, payment: Payment, kind: K, ctx: CommandContext = WEBHOOK, **fields: Any
) -> GatewayEventOutcome:
    fields.setdefault("id", f"evt_{uuid.uuid4().hex[:12]}")
    event = GatewayEvent(
        kind=kind,
        gateway="fake",
        gateway_payment_id=payment.gateway_payment_id or "",
        **fields,
    )
    return await record_gateway_event(shop.repo, shop.clock, ctx, event)


async def charged_after_3ds(shop: Shop) -> tuple[Order, Payment]:
    order = await shop.place(("MUG-1", 2))
    waiting = (await shop.charge(order.id, "tok_3ds")).payment
    shop.gateway.complete_authentication(waiting.gateway_payment_id or "")
    return order, waiting


async def test_a_charge_completed_after_3ds_pays_the_order_and_takes_its_stock(shop: Shop) -> None:
    order, waiting = await charged_after_3ds(shop)

    outcome = await deliver(shop, waiting, K.PAYMENT_SUCCEEDED, amount=usd(2000))

    assert outcome.applied
    assert outcome.payment.status is P.CAPTURED
    assert (await shop.order(order.id)).status is S.PAID
    assert (await shop.levels("MUG-1")).on_hand == 3


async def test_an_event_delivered_twice_is_recorded_once(shop: Shop) -> None:
    _order, waiting = await charged_after_3ds(shop)
    await deliver(shop, waiting, K.PAYMENT_SUCCEEDED, id="evt_1", amount=usd(2000))
    before = await shop.events()

    again = await deliver(shop, waiting, K.PAYMENT_SUCCEEDED, id="evt_1", amount=usd(2000))

    assert not again.applied
    assert await shop.events() == before


async def test_the_webhook_for_our_own_capture_records_nothing_more(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    authorized = await shop.authorize(order.id)
    captured = (await shop.capture(authorized.payment.id, 1500)).payment
    before = await shop.events()

    outcome = await deliver(shop, captured, K.PAYMENT_SUCCEEDED, amount=usd(1500))

    assert not outcome.applied
    assert await shop.events() == before
    assert (await shop.order(order.id)).paid == usd(1500)


async def test_events_out_of_order_reach_the_same_outcome() -> None:
    in_order, out_of_order = Shop(), Shop()
    for each, kinds in (
        (in_order, [K.PAYMENT_AUTHORIZED, K.PAYMENT_SUCCEEDED]),
        (out_of_order, [K.PAYMENT_SUCCEEDED, K.PAYMENT_AUTHORIZED]),
    ):
        await each.product("MUG-1", price=1000, stock=5)
        order = await each.place(("MUG-1", 2))
        waiting = (await each.authorize(order.id, "tok_3ds")).payment
        for kind in kinds:
            await deliver(each, waiting, kind, amount=usd(2000))

    states = []
    for each in (in_order, out_of_order):
        [payment_event] = [e for e in await each.events() if e.type.endswith("Payment.Captured")]
        payment = await each.payment(payment_event.stream_id)
        order = await each.order(payment.order_id)
        states.append((payment.status, payment.captured, order.status, order.paid))
    assert states[0] == states[1] == (P.CAPTURED, usd(2000), S.PAID, usd(2000))


async def test_a_failed_3ds_fails_the_payment_and_the_order_may_be_paid_again(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    waiting = (await shop.authorize(order.id, "tok_3ds")).payment

    await deliver(shop, waiting, K.PAYMENT_FAILED, code="authentication_failed")

    failed = await shop.payment(waiting.id)
    assert (failed.status, failed.decline_code) == (P.FAILED, "authentication_failed")
    assert (await shop.order(order.id)).status is S.PAYMENT_FAILED
    await shop.charge(order.id)
    assert (await shop.order(order.id)).status is S.PAID


async def test_an_event_naming_only_the_gateways_payment_id_finds_our_payment(shop: Shop) -> None:
    _order, waiting = await charged_after_3ds(shop)

    outcome = await deliver(shop, waiting, K.PAYMENT_SUCCEEDED, payment_id=None)

    assert outcome.payment.id == waiting.id
    assert outcome.payment.status is P.CAPTURED


async def test_an_event_for_an_unknown_or_foreign_payment_is_not_found(shop: Shop) -> None:
    _order, waiting = await charged_after_3ds(shop)
    stranger = CommandContext(tenant_id="tenant-2", actor=SYSTEM)

    with pytest.raises(AggregateNotFoundError):
        await deliver(shop, waiting, K.PAYMENT_SUCCEEDED, ctx=stranger)
    with pytest.raises(AggregateNotFoundError):
        await deliver(shop, waiting, K.PAYMENT_SUCCEEDED, ctx=stranger, payment_id=waiting.id)


async def test_a_refund_made_at_the_gateway_is_recorded_on_payment_and_order(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment
    outside = await shop.gateway.refund(charged.gateway_payment_id or "", usd(700), "dashboard-1")

    await deliver(
        shop,
        charged,
        K.REFUND_SUCCEEDED,
        amount=usd(700),
        gateway_refund_id=outside.gateway_refund_id,
    )

    payment = await shop.payment(charged.id)
    assert [(r.amount, r.status) for r in payment.refunds] == [(usd(700), RefundStatus.SUCCEEDED)]
    assert (await shop.order(order.id)).refunded == usd(700)


async def test_the_webhook_for_our_own_refund_records_nothing_more(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment
    refund = await shop.refund_payment(charged.id, 700)
    gateway_refund_id = (await shop.payment(charged.id)).refund_by_id(refund.id).gateway_refund_id
    before = await shop.events()

    outcome = await deliver(
        shop, charged, K.REFUND_SUCCEEDED, amount=usd(700), gateway_refund_id=gateway_refund_id
    )

    assert not outcome.applied
    assert await shop.events() == before


async def test_a_pending_refund_reaches_the_order_when_its_webhook_says_it_succeeded(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment
    shop.gateway.refunds_pending = True
    refund = await shop.refund_payment(charged.id, 700)
    assert refund.status is RefundStatus.PENDING
    assert (await shop.order(order.id)).refunded == usd(0)
    [gateway_refund_id] = (
        await shop.repo.get(OrderLedger.id_for(order.id), kind=OrderLedger)
    ).gateway_refunds

    await deliver(shop, charged, K.REFUND_SUCCEEDED, gateway_refund_id=gateway_refund_id)

    assert (await shop.payment(charged.id)).refund_by_id(refund.id).status is RefundStatus.SUCCEEDED
    assert (await shop.order(order.id)).refunded == usd(700)


async def test_a_pending_refund_that_fails_makes_its_amount_refundable_again(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment
    shop.gateway.refunds_pending = True
    refund = await shop.refund_payment(charged.id, 700)

    await deliver(shop, charged, K.REFUND_FAILED, refund_id=refund.id, code="expired_card")

    payment = await shop.payment(charged.id)
    assert payment.refund_by_id(refund.id).status is RefundStatus.FAILED
    assert payment.refundable == usd(2000)
    assert (await shop.order(order.id)).refunded == usd(0)


async def test_a_lost_dispute_charges_the_money_back(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment

    await deliver(shop, charged, K.DISPUTE_OPENED, dispute_id="dp_1", code="fraudulent")
    assert (await shop.order(order.id)).status is S.DISPUTED
    await deliver(shop, charged, K.DISPUTE_CLOSED, dispute_id="dp_1", outcome=DisputeOutcome.LOST)

    payment = await shop.payment(charged.id)
    assert (payment.charged_back, payment.dispute and payment.dispute.status) == (
        usd(2000),
        DisputeStatus.LOST,
    )
    closed = await shop.order(order.id)
    assert (closed.status, closed.refunded) == (S.REFUNDED, usd(2000))


async def test_a_dispute_closed_before_its_opening_arrives_is_opened_and_closed(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment

    await deliver(shop, charged, K.DISPUTE_CLOSED, dispute_id="dp_1", outcome=DisputeOutcome.WON)
    late = await deliver(shop, charged, K.DISPUTE_OPENED, dispute_id="dp_1", code="fraudulent")

    assert not late.applied
    payment = await shop.payment(charged.id)
    assert payment.dispute is not None
    assert (payment.status, payment.dispute.status) == (P.CAPTURED, DisputeStatus.WON)
    assert (await shop.order(order.id)).status is S.PAID


async def test_money_for_a_voided_payment_is_flagged_not_recorded(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    waiting = (await shop.charge(order.id, "tok_3ds")).payment
    await shop.cancel(order.id)
    before = await shop.events()

    outcome = await deliver(shop, waiting, K.PAYMENT_SUCCEEDED, amount=usd(2000))

    assert outcome.attention is not None
    assert await shop.events() == before
