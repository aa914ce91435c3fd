"""The Stripe adapter through the real SDK against localstripe, a Stripe-compatible server.

What localstripe cannot show (idempotency keys, Connect, Stripe's error codes, retries on
5xx) is checked on recorded requests in ``test_stripe_requests``.
"""

from __future__ import annotations

import uuid

import pytest

from adapters.payments.stripe import StripeGateway
from commerce_core.payments.ports.gateway import (
    GatewayPayment,
    GatewayRefundStatus,
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
)
from commerce_core.shared.money import Money
from tests.integration.stripe.server import (
    DECLINED_CARD,
    SECRET_KEY,
    THREE_DS_CARD,
    LocalStripe,
)

VISA = "pm_card_visa"


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def key() -> str:
    return f"test-{uuid.uuid4()}"


async def authorized(gateway: StripeGateway, cents: int = 5_000) -> GatewayPayment:
    payment = await gateway.authorize(usd(cents), VISA, key(), metadata={"order_id": "o-1"})
    assert payment.status == GatewayStatus.AUTHORIZED
    return payment


async def test_an_authorization_captured_in_full_is_captured_with_stripes_fee(
    gateway: StripeGateway,
) -> None:
    payment = await authorized(gateway)
    assert (payment.captured, payment.refunded, payment.gateway_fee) == (usd(0), usd(0), None)
    assert payment.gateway_payment_id.startswith("pi_")

    captured = await gateway.capture(payment.gateway_payment_id, None, key())

    assert (captured.status, captured.captured, captured.refunded) == (
        GatewayStatus.CAPTURED,
        usd(5_000),
        usd(0),
    )
    assert captured.gateway_fee == usd(
        0
    )  # localstripe charges no fee; Stripe's is read the same way
    assert await gateway.retrieve(payment.gateway_payment_id) == captured


async def test_a_partial_capture_takes_that_amount_and_the_release_is_no_refund(
    gateway: StripeGateway,
) -> None:
    payment = await authorized(gateway)

    captured = await gateway.capture(payment.gateway_payment_id, usd(3_000), key())

    assert (captured.status, captured.amount, captured.captured, captured.refunded) == (
        GatewayStatus.CAPTURED,
        usd(5_000),
        usd(3_000),
        usd(0),
    )
    refund = await gateway.refund(payment.gateway_payment_id, usd(1_000), key())
    assert refund.amount == usd(1_000)
    after = await gateway.retrieve(payment.gateway_payment_id)
    assert (after.captured, after.refunded) == (usd(3_000), usd(1_000))


async def test_an_authorization_asks_for_multicapture_and_a_final_capture_works_without_it(
    gateway: StripeGateway,
) -> None:
    # localstripe takes request_multicapture (and ignores it) but has no multicapture
    payment = await authorized(gateway)

    with pytest.raises(GatewayRequestError) as refused:
        await gateway.capture(payment.gateway_payment_id, usd(1_000), key(), final=False)
    captured = await gateway.capture(payment.gateway_payment_id, usd(1_000), key(), final=True)

    assert refused.value.code == "multicapture_unavailable"
    assert (captured.status, captured.captured) == (GatewayStatus.CAPTURED, usd(1_000))


async def test_a_charge_is_captured_at_once(gateway: StripeGateway) -> None:
    payment = await gateway.charge(usd(2_500), VISA, key())

    assert (payment.status, payment.captured) == (GatewayStatus.CAPTURED, usd(2_500))
    assert payment.client_secret is None


async def test_a_void_cancels_the_authorization(gateway: StripeGateway) -> None:
    payment = await authorized(gateway)

    voided = await gateway.void(payment.gateway_payment_id, key())

    assert (voided.status, voided.captured) == (GatewayStatus.VOIDED, usd(0))
    assert (await gateway.retrieve(payment.gateway_payment_id)).status == GatewayStatus.VOIDED


async def test_a_full_refund_returns_everything_captured(gateway: StripeGateway) -> None:
    payment = await gateway.charge(usd(5_000), VISA, key())

    refund = await gateway.refund(payment.gateway_payment_id, usd(5_000), key())

    assert (refund.status, refund.amount) == (GatewayRefundStatus.SUCCEEDED, usd(5_000))
    assert refund.gateway_payment_id == payment.gateway_payment_id
    assert refund.gateway_refund_id.startswith("re_")
    assert (await gateway.retrieve(payment.gateway_payment_id)).refunded == usd(5_000)


async def test_several_partial_refunds_add_up(gateway: StripeGateway) -> None:
    payment = await gateway.charge(usd(5_000), VISA, key())

    refunds = [
        await gateway.refund(payment.gateway_payment_id, usd(cents), key(), reason)
        for cents, reason in [(1_000, "damaged"), (1_500, None), (500, "late")]
    ]

    assert len({r.gateway_refund_id for r in refunds}) == 3
    assert all(r.status == GatewayRefundStatus.SUCCEEDED for r in refunds)
    after = await gateway.retrieve(payment.gateway_payment_id)
    assert (after.status, after.captured, after.refunded) == (
        GatewayStatus.CAPTURED,
        usd(5_000),
        usd(3_000),
    )


@pytest.mark.parametrize("operation", ["authorize", "charge"])
async def test_a_declined_card_gives_a_failed_payment_with_the_decline_code(
    gateway: StripeGateway, localstripe: LocalStripe, operation: str
) -> None:
    card = await localstripe.card(DECLINED_CARD)

    payment = await getattr(gateway, operation)(usd(5_000), card, key())

    assert (payment.status, payment.decline_code) == (GatewayStatus.FAILED, "card_declined")
    assert payment.captured == usd(0)
    assert payment.gateway_payment_id.startswith("pi_")
    assert await gateway.retrieve(payment.gateway_payment_id) == payment


async def test_stripes_test_payment_method_for_declines_is_declined(
    gateway: StripeGateway,
) -> None:
    payment = await gateway.charge(usd(5_000), "pm_card_chargeCustomerFail", key())

    assert (payment.status, payment.decline_code) == (GatewayStatus.FAILED, "card_declined")


async def test_3ds_passed_by_the_customer_authorizes_the_payment(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    payment = await gateway.authorize(usd(5_000), await localstripe.card(THREE_DS_CARD), key())
    assert payment.status == GatewayStatus.REQUIRES_ACTION
    assert payment.client_secret
    assert payment.client_secret.startswith(payment.gateway_payment_id)

    await localstripe.authenticate(payment.gateway_payment_id, payment.client_secret, True)

    after = await gateway.retrieve(payment.gateway_payment_id)
    assert (after.status, after.client_secret) == (GatewayStatus.AUTHORIZED, None)
    captured = await gateway.capture(payment.gateway_payment_id, None, key())
    assert captured.captured == usd(5_000)


async def test_3ds_passed_on_a_charge_captures_it(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    payment = await gateway.charge(usd(5_000), await localstripe.card(THREE_DS_CARD), key())
    assert payment.client_secret

    await localstripe.authenticate(payment.gateway_payment_id, payment.client_secret, True)

    after = await gateway.retrieve(payment.gateway_payment_id)
    assert (after.status, after.captured) == (GatewayStatus.CAPTURED, usd(5_000))


async def test_3ds_failed_by_the_customer_fails_the_payment(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    payment = await gateway.authorize(usd(5_000), await localstripe.card(THREE_DS_CARD), key())
    assert payment.client_secret

    await localstripe.authenticate(payment.gateway_payment_id, payment.client_secret, False)

    after = await gateway.retrieve(payment.gateway_payment_id)
    assert (after.status, after.decline_code) == (GatewayStatus.FAILED, "authentication_failed")


async def test_a_payment_awaiting_3ds_can_be_voided(
    gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    payment = await gateway.authorize(usd(5_000), await localstripe.card(THREE_DS_CARD), key())

    voided = await gateway.void(payment.gateway_payment_id, key())

    assert voided.status == GatewayStatus.VOIDED


async def test_a_void_after_capture_is_refused(gateway: StripeGateway) -> None:
    payment = await gateway.charge(usd(5_000), VISA, key())

    with pytest.raises(GatewayRequestError):
        await gateway.void(payment.gateway_payment_id, key())


async def test_an_unknown_payment_or_payment_method_is_missing(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayRequestError) as unknown_payment:
        await gateway.retrieve("pi_does_not_exist")
    with pytest.raises(GatewayRequestError) as unknown_card:
        await gateway.authorize(usd(5_000), "pm_does_not_exist", key())

    assert unknown_payment.value.code == unknown_card.value.code == "resource_missing"


async def test_a_server_that_does_not_answer_is_retried_then_unavailable() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    # a port nobody listens on: every attempt is refused at once
    gateway = StripeGateway(
        SECRET_KEY, api_base="http://127.0.0.1:9", max_retries=2, sleep=sleep, redirect_free=False
    )
    try:
        with pytest.raises(GatewayUnavailableError):
            await gateway.authorize(usd(5_000), VISA, key())
    finally:
        await gateway.close()

    assert waits == [0.25, 0.5]
