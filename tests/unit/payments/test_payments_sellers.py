"""Marketplace payments: paid to a seller's account less the platform fee, the fee the gateway
keeps always equal to the payment's, refunds taken back from the seller, with our ids."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_core.marketplace.seller import Seller, SellerNotFoundError
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments import services as payments
from commerce_core.payments.destinations import SellerNotReadyError
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import PaymentStatus
from commerce_core.payments.ports.gateway import Destination
from commerce_core.payments.services import PaymentResult
from commerce_core.shared.command_ids import intent_id
from tests.unit.shop import FEES, STAFF, TENANT, Shop, keyed, usd

P = PaymentStatus
ACCOUNT = "acct_seller_1"


async def a_seller(
    shop: Shop, seller_id: str = "seller-1", ready: bool = True, tenant: str = TENANT
) -> Seller:
    """A seller saved as onboarding would leave it; ``ready``: the gateway enabled charges."""
    now = shop.clock.now()
    seller = Seller.open(tenant, seller_id, "stripe", ACCOUNT, "US", now)
    seller.record_account_state(ready, ready, ready, now, "evt_account_1", now)
    await shop.repo.save(seller, metadata=STAFF.metadata())
    return seller


async def open_for(
    shop: Shop,
    order_id: UUID,
    seller_id: str | None,
    capture: bool = True,
    fees: FeeSchedule = FEES,
    key: str | None = None,
) -> PaymentResult:
    opener = payments.charge_payment if capture else payments.authorize_payment
    command = payments.OpenPayment(
        order_id=order_id, token="tok_visa", gateway_name="fake", seller_id=seller_id
    )
    return await opener(shop.payment_services, keyed(key) if key else STAFF, command, fees)


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


async def test_a_charge_for_a_ready_seller_goes_to_its_account_less_the_platform_fee(
    shop: Shop,
) -> None:
    await a_seller(shop)
    order = await shop.place(("MUG-1", 2))

    payment = (await open_for(shop, order.id, "seller-1")).payment

    assert (payment.status, payment.seller_id, payment.destination_account) == (
        P.CAPTURED,
        "seller-1",
        ACCOUNT,
    )
    assert payment.platform_fee == usd(60)  # 3 % of 2,000
    sent = shop.gateway.destination_of(payment.gateway_payment_id or "")
    assert sent == Destination(account_id=ACCOUNT, application_fee=payment.platform_fee)
    assert (await shop.payment(payment.id)).seller_id == "seller-1"  # recorded, not only returned
    assert (await shop.order(order.id)).status is OrderStatus.PAID


async def test_a_payment_without_a_seller_stays_with_the_platform(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))

    payment = (await shop.charge(order.id)).payment

    assert (payment.seller_id, payment.destination_account) == (None, None)
    assert shop.gateway.destination_of(payment.gateway_payment_id or "") is None


@pytest.mark.parametrize(
    ("arrange", "error"),
    [
        pytest.param("none", SellerNotFoundError, id="unknown-seller"),
        pytest.param("other-tenant", SellerNotFoundError, id="another-tenant-s-seller"),
        pytest.param("not-ready", SellerNotReadyError, id="charges-not-enabled"),
    ],
)
@pytest.mark.parametrize("capture", [True, False], ids=["charge", "authorize"])
async def test_a_seller_that_cannot_be_paid_is_refused_before_anything_moves(
    shop: Shop, arrange: str, error: type[Exception], capture: bool
) -> None:
    if arrange == "other-tenant":
        await a_seller(shop, tenant="tenant-2")
    elif arrange == "not-ready":
        await a_seller(shop, ready=False)
    order = await shop.place(("MUG-1", 2))
    before = await shop.events()

    with pytest.raises(error):
        await open_for(shop, order.id, "seller-1", capture=capture)

    assert await shop.events() == before
    assert shop.gateway.payment_count == 0


async def test_an_authorization_sends_the_fee_on_the_whole_amount(shop: Shop) -> None:
    await a_seller(shop)
    order = await shop.place(("MUG-1", 2))

    payment = (await open_for(shop, order.id, "seller-1", capture=False)).payment

    sent = shop.gateway.destination_of(payment.gateway_payment_id or "")
    assert (payment.status, sent) == (
        P.AUTHORIZED,
        Destination(account_id=ACCOUNT, application_fee=usd(60)),
    )


async def test_a_partial_capture_sends_the_fee_on_what_it_captures(shop: Shop) -> None:
    await a_seller(shop)
    order = await shop.place(("MUG-1", 2))
    authorized = (await open_for(shop, order.id, "seller-1", capture=False)).payment

    captured = (await shop.capture(authorized.id, 1200)).payment

    sent = shop.gateway.destination_of(authorized.gateway_payment_id or "")
    assert captured.platform_fee == usd(36)
    assert sent == Destination(account_id=ACCOUNT, application_fee=captured.platform_fee)


@settings(max_examples=40, deadline=None)
@given(
    basis_points=st.integers(0, 10_000),
    fixed=st.integers(0, 3_000),
    captured=st.integers(1, 2_000),
)
def test_the_fee_the_gateway_keeps_always_equals_the_payment_s_platform_fee(
    basis_points: int, fixed: int, captured: int
) -> None:
    async def story() -> None:
        shop = Shop()
        await shop.product("MUG-1", price=1000, stock=5)
        await a_seller(shop)
        order = await shop.place(("MUG-1", 2))
        fees = FeeSchedule(basis_points=basis_points, fixed=fixed)
        authorized = (await open_for(shop, order.id, "seller-1", False, fees)).payment

        payment = (await shop.capture(authorized.id, captured)).payment

        sent = shop.gateway.destination_of(payment.gateway_payment_id or "")
        assert sent is not None
        assert sent.application_fee == payment.platform_fee == fees.fee_on(usd(captured))
        assert sent.application_fee <= payment.captured

    asyncio.run(story())


async def test_a_refund_of_a_seller_s_payment_is_taken_back_from_the_seller(shop: Shop) -> None:
    await a_seller(shop)
    order = await shop.place(("MUG-1", 2))
    payment = (await open_for(shop, order.id, "seller-1")).payment

    refund = await shop.refund_payment(payment.id, 500)

    gateway_id = payment.gateway_payment_id or ""
    assert shop.gateway.reversed_from_seller(gateway_id) == usd(500)
    recorded = (await shop.payment(payment.id)).refund_by_id(refund.id)
    assert shop.gateway.refund_metadata(recorded.gateway_refund_id or "") == {
        "tenant_id": TENANT,
        "order_id": str(order.id),
        "payment_id": str(payment.id),
        "refund_id": str(refund.id),
    }


async def test_refunds_of_an_order_and_its_cancellation_reverse_the_seller_s_transfer(
    shop: Shop,
) -> None:
    await a_seller(shop)
    order = await shop.place(("MUG-1", 2))
    payment = (await open_for(shop, order.id, "seller-1")).payment
    gateway_id = payment.gateway_payment_id or ""

    await shop.refund_order(order.id, 300)
    after_refund = shop.gateway.reversed_from_seller(gateway_id)
    await shop.cancel(order.id)

    assert after_refund == usd(300)
    assert shop.gateway.reversed_from_seller(gateway_id) == usd(2000)
    refunds = (await shop.payment(payment.id)).refunds
    assert [
        shop.gateway.refund_metadata(r.gateway_refund_id or "")["refund_id"] for r in refunds
    ] == [str(r.id) for r in refunds]


async def test_a_refund_of_a_platform_payment_carries_our_ids_and_reverses_nothing(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    payment = (await shop.charge(order.id)).payment
    ctx = keyed("refund-1")

    refund = await shop.refund_payment(payment.id, 500, ctx)

    assert refund.id == intent_id(ctx, payment, "refund")
    gateway_refund = (await shop.payment(payment.id)).refund_by_id(refund.id).gateway_refund_id
    assert shop.gateway.refund_metadata(gateway_refund or "")["refund_id"] == str(refund.id)
    assert shop.gateway.reversed_from_seller(payment.gateway_payment_id or "") is None


async def test_running_a_seller_s_charge_again_returns_the_first_even_if_the_seller_changed(
    shop: Shop,
) -> None:
    seller = await a_seller(shop)
    order = await shop.place(("MUG-1", 2))
    first = (await open_for(shop, order.id, "seller-1", key="pay-1")).payment
    now = shop.clock.now()
    seller.record_account_state(False, False, True, now, "evt_account_2", now)
    await shop.repo.save(seller, metadata=STAFF.metadata())

    again = (await open_for(shop, order.id, "seller-1", key="pay-1")).payment

    assert (again.id, again.seller_id, shop.gateway.payment_count) == (first.id, "seller-1", 1)
