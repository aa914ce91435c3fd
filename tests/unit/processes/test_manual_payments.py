"""Bank transfers and cash on delivery: money recorded by staff through the same Payment."""

from __future__ import annotations

from uuid import UUID

import pytest

from commerce_core.ordering.order import OrderStatus, OverpaymentError
from commerce_core.payments.payment import PaymentStatus, RefundStatus
from commerce_core.payments.refund_effects import RefundResult
from commerce_core.payments.results import PaymentResult
from commerce_core.processes.manual_payments import (
    DuplicateReferenceError,
    ManualReceipt,
    ManualRefund,
    NotManualPaymentError,
    record_manual_payment,
    record_manual_refund,
)
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.refunds import RefundExceedsCapturedError
from commerce_core.shared.values import PaymentMethod
from tests.unit.shop import FEES, usd
from tests.unit.tenant_shop import STAFF, TenantShop

S = OrderStatus
P = PaymentStatus
BANK = PaymentMethod.BANK_TRANSFER
CASH = PaymentMethod.CASH_ON_DELIVERY


@pytest.fixture
async def shop() -> TenantShop:
    shop = TenantShop()
    await shop.stock("MUG-1", price=1000, quantity=5)
    return shop


async def receive(
    shop: TenantShop,
    order_id: UUID,
    method: PaymentMethod = BANK,
    reference: str | None = "BANK-REF-1",
    amount: int | None = None,
    ctx: CommandContext = STAFF,
) -> PaymentResult:
    receipt = ManualReceipt(method=method, reference=reference, amount=amount)
    return await record_manual_payment(shop.manual_payment_services, ctx, order_id, receipt, FEES)


async def give_back(
    shop: TenantShop, payment_id: UUID, amount: int, ctx: CommandContext = STAFF
) -> RefundResult:
    refund = ManualRefund(amount=amount, reason="returned", reference="BANK-OUT-1")
    return await record_manual_refund(shop.manual_payment_services, ctx, payment_id, refund)


def keyed(key: str) -> CommandContext:
    return CommandContext(tenant_id=STAFF.tenant_id, actor=STAFF.actor, idempotency_key=key)


async def test_a_bank_transfer_received_pays_the_order_and_takes_its_stock(
    shop: TenantShop,
) -> None:
    order = await shop.order_for(("MUG-1", 2), payment_method="bank_transfer")
    before = len(await shop.events())

    result = await receive(shop, order.id)

    payment = await shop.payment(result.payment.id)
    assert (payment.method, payment.gateway) == (BANK, "bank_transfer")
    assert (payment.status, payment.captured) == (P.CAPTURED, usd(2000))
    assert payment.gateway_payment_id == "BANK-REF-1"
    assert (payment.platform_fee, payment.gateway_fee) == (usd(60), usd(0))
    paid = await shop.order(order.id)
    assert (paid.status, paid.paid) == (S.PAID, usd(2000))
    assert (await shop.stock_of("MUG-1")).on_hand == 3
    new = (await shop.events())[before:]
    assert len({event.position.tx_id for event in new}) == 1  # one append


async def test_cancelling_an_order_paid_by_transfer_leaves_the_money_for_staff_to_hand_back(
    shop: TenantShop,
) -> None:
    order = await shop.order_for(("MUG-1", 2), payment_method="bank_transfer")
    payment_id = (await receive(shop, order.id)).payment.id
    gateway_calls = shop.gateway.payment_count

    cancelled = await shop.cancel(order.id, STAFF)

    # the gateway never heard of BANK-REF-1: nothing is asked of it
    assert shop.gateway.payment_count == gateway_calls
    assert not shop.gateway.refunds_made()
    assert (cancelled.status, cancelled.paid, cancelled.refunded) == (
        S.CANCELLED,
        usd(2000),
        usd(0),
    )
    assert (await shop.payment(payment_id)).status is P.CAPTURED
    assert (await shop.stock_of("MUG-1")).on_hand == 5  # the units taken went back
    await give_back(shop, payment_id, 2000)
    assert (await shop.order(order.id)).refunded == usd(2000)
    assert (await shop.payment(payment_id)).status is P.REFUNDED


async def test_transfers_in_parts_pay_the_order_once_they_add_up(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 2))

    await receive(shop, order.id, reference="PART-1", amount=500)
    assert (await shop.order(order.id)).status is S.PENDING_PAYMENT
    second = await receive(shop, order.id, reference="PART-2")

    assert second.payment.captured == usd(1500)  # what was still owed
    assert (await shop.order(order.id)).status is S.PAID


async def test_the_same_receipt_recorded_twice_is_one_payment(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 1))
    first = await receive(shop, order.id, amount=1000)
    events = await shop.events()

    again = await receive(shop, order.id, amount=1000)

    assert again.payment.id == first.payment.id
    assert await shop.events() == events


async def test_a_reference_used_for_another_order_is_refused(shop: TenantShop) -> None:
    first = await shop.order_for(("MUG-1", 1))
    other = await shop.order_for(("MUG-1", 1))
    await receive(shop, first.id)
    events = await shop.events()

    with pytest.raises(DuplicateReferenceError):
        await receive(shop, other.id)

    assert await shop.events() == events


async def test_a_repeated_request_returns_the_payment_it_recorded(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 1))

    first = await receive(shop, order.id, CASH, reference=None, ctx=keyed("k-1"))
    again = await receive(shop, order.id, CASH, reference=None, ctx=keyed("k-1"))

    assert again.payment.id == first.payment.id
    assert len((await shop.order(order.id)).payment_ids) == 1


async def test_cash_collected_on_delivery_pays_the_order_without_a_reference(
    shop: TenantShop,
) -> None:
    order = await shop.order_for(("MUG-1", 1), payment_method="cash_on_delivery")

    result = await receive(shop, order.id, CASH, reference=None)

    assert (result.payment.method, result.payment.gateway) == (CASH, "cash_on_delivery")
    assert result.payment.gateway_payment_id is None
    assert (await shop.order(order.id)).status is S.PAID


@pytest.mark.parametrize(
    ("receipt", "error"),
    [
        (ManualReceipt(method=BANK, reference=None), InvalidValueError),
        (ManualReceipt(method=BANK, reference="R", amount=0), InvalidValueError),
        (ManualReceipt(method=PaymentMethod.CARD, reference="R"), InvalidValueError),
        (ManualReceipt(method=BANK, reference="R", amount=1001), OverpaymentError),
    ],
)
async def test_a_receipt_the_order_cannot_take_records_nothing(
    shop: TenantShop, receipt: ManualReceipt, error: type[Exception]
) -> None:
    order = await shop.order_for(("MUG-1", 1))
    events = await shop.events()

    with pytest.raises(error):
        await record_manual_payment(shop.manual_payment_services, STAFF, order.id, receipt, FEES)

    assert await shop.events() == events


async def test_money_for_a_cancelled_order_is_refused(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 1))
    await shop.cancel(order.id, ctx=STAFF)

    with pytest.raises(InvalidTransitionError):
        await receive(shop, order.id)


async def test_money_sent_back_by_hand_is_recorded_as_a_refund(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 2))
    paid = await receive(shop, order.id)

    refund = await give_back(shop, paid.payment.id, 500)

    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, usd(500))
    payment = await shop.payment(paid.payment.id)
    assert (payment.status, payment.refunded) == (P.PARTIALLY_REFUNDED, usd(500))
    assert payment.refunds[0].gateway_refund_id == "BANK-OUT-1"
    refunded = await shop.order(order.id)
    assert (refunded.status, refunded.refunded) == (S.PARTIALLY_REFUNDED, usd(500))


async def test_a_manual_refund_is_recorded_once_per_request(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 2))
    paid = await receive(shop, order.id)

    first = await give_back(shop, paid.payment.id, 500, ctx=keyed("r-1"))
    again = await give_back(shop, paid.payment.id, 500, ctx=keyed("r-1"))

    assert again.id == first.id
    assert (await shop.payment(paid.payment.id)).refunded == usd(500)


async def test_a_manual_refund_beyond_what_was_paid_or_of_a_card_is_refused(
    shop: TenantShop,
) -> None:
    order = await shop.order_for(("MUG-1", 1))
    paid = await receive(shop, order.id)
    card_order = await shop.order_for(("MUG-1", 1))
    card = await shop.charge(card_order.id, ctx=STAFF)
    events = await shop.events()

    with pytest.raises(RefundExceedsCapturedError):
        await give_back(shop, paid.payment.id, 1001)
    with pytest.raises(NotManualPaymentError):
        await give_back(shop, card.payment.id, 100)

    assert await shop.events() == events
