"""The payment gateway contract: every adapter behaves like this (the fake, and Stripe).

To add an adapter, add to ``ADAPTERS`` a function that builds it with
its own test tokens and its own way of finishing 3-D Secure (for Stripe, the
test server's authenticate endpoint).

Stripe runs against localstripe, which lacks some of Stripe's behaviour; the builder
lists those ``gaps`` and the tests that need them skip for it with the reason (each
gap is checked instead on recorded requests, in tests/integration/stripe).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.payments.fake_gateway import FakeGatewayBase
from adapters.payments.stripe import StripeGateway
from adapters.postgres.fake_gateway import PostgresFakeGateway
from commerce_core.payments.ports.gateway import (
    Destination,
    GatewayPayment,
    GatewayRefundStatus,
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
    PaymentGateway,
)
from commerce_core.shared.money import Money
from tests.conftest import PgSchema
from tests.integration.stripe.server import (
    SECRET_KEY,
    THREE_DS_CARD,
    LocalStripe,
    localstripe,
)

__all__ = ["localstripe"]  # the session's localstripe, for the Stripe adapter

Authenticate = Callable[[GatewayPayment, bool], Awaitable[None]]

# Behaviours a test server may lack (keys of ``GatewayUnderTest.gaps``)
IDEMPOTENCY = "idempotency"
INSUFFICIENT_FUNDS = "insufficient_funds"
MULTICAPTURE = "multicapture"
REFUSALS = "refusals"


@dataclass
class GatewayUnderTest:
    gateway: PaymentGateway
    tokens: dict[str, str]  # "ok", "declined", "insufficient_funds", "3ds" -> the adapter's token
    authenticate: Authenticate  # the customer passes (True) or fails (False) 3-D Secure
    gaps: dict[str, str] = field(default_factory=dict)  # behaviour -> why it cannot be tested
    close: Callable[[], Awaitable[None]] | None = None


def needs(subject: GatewayUnderTest, behaviour: str) -> None:
    """Skips the test for an adapter whose test server lacks ``behaviour``."""
    reason = subject.gaps.get(behaviour)
    if reason is not None:
        pytest.skip(reason)


FAKE_TOKENS = {
    "ok": "tok_visa",
    "declined": "tok_declined",
    "insufficient_funds": "tok_insufficient_funds",
    "3ds": "tok_3ds",
}


async def fake_under_test(request: pytest.FixtureRequest) -> GatewayUnderTest:
    fake = FakePaymentGateway()

    async def authenticate(payment: GatewayPayment, success: bool) -> None:
        fake.complete_authentication(payment.gateway_payment_id, success)

    return GatewayUnderTest(gateway=fake, tokens=FAKE_TOKENS, authenticate=authenticate)


async def postgres_fake_under_test(request: pytest.FixtureRequest) -> GatewayUnderTest:
    """The test gateway of the demo mode, on its tables in a schema of its own."""
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)
    fake = PostgresFakeGateway(pool)

    async def authenticate(payment: GatewayPayment, success: bool) -> None:
        await fake.complete_authentication(payment.gateway_payment_id, success)

    async def close() -> None:
        await pool.close()
        await schema.drop()

    return GatewayUnderTest(
        gateway=fake, tokens=FAKE_TOKENS, authenticate=authenticate, close=close
    )


async def stripe_under_test(request: pytest.FixtureRequest) -> GatewayUnderTest:
    """The Stripe adapter through the real SDK against localstripe (started on first use)."""
    server: LocalStripe = request.getfixturevalue("localstripe")
    server.clear()
    # localstripe refuses automatic_payment_methods, which real Stripe needs (see the adapter)
    gateway = StripeGateway(SECRET_KEY, api_base=server.url, max_retries=0, redirect_free=False)

    async def authenticate(payment: GatewayPayment, success: bool) -> None:
        assert payment.client_secret
        await server.authenticate(payment.gateway_payment_id, payment.client_secret, success)

    return GatewayUnderTest(
        gateway=gateway,
        tokens={
            "ok": "pm_card_visa",
            "declined": "pm_card_chargeCustomerFail",
            "insufficient_funds": "pm_card_visa_chargeDeclinedInsufficientFunds",
            "3ds": await server.card(THREE_DS_CARD),
        },
        authenticate=authenticate,
        gaps={
            IDEMPOTENCY: (
                "localstripe ignores idempotency keys; verified by the recording-client test"
            ),
            INSUFFICIENT_FUNDS: (
                "localstripe has no card declined for insufficient funds; decline codes are "
                "verified by the recording-client test"
            ),
            MULTICAPTURE: (
                "localstripe has no multicapture (it refuses final_capture); the requests are "
                "checked on recorded requests against Stripe's spec"
            ),
            REFUSALS: (
                "localstripe accepts over-refunds, refunds before capture and captures after a "
                "cancel, answers 500 to a capture after a failed 3-D Secure, and refuses without "
                "Stripe's error codes; the mapping of Stripe's refusals is verified by the "
                "recording-client test"
            ),
        },
        close=gateway.close,
    )


ADAPTERS: dict[str, Callable[[pytest.FixtureRequest], Awaitable[GatewayUnderTest]]] = {
    "fake": fake_under_test,
    "postgres-fake": postgres_fake_under_test,
    "stripe": stripe_under_test,
}


@pytest.fixture(params=sorted(ADAPTERS))
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[GatewayUnderTest]:
    under_test = await ADAPTERS[request.param](request)
    yield under_test
    if under_test.close is not None:
        await under_test.close()


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def key() -> str:
    return f"test-{uuid.uuid4()}"


async def authorized(subject: GatewayUnderTest, cents: int = 5_000) -> GatewayPayment:
    result = await subject.gateway.authorize(usd(cents), subject.tokens["ok"], key())
    assert result.status == GatewayStatus.AUTHORIZED
    return result


async def charged(subject: GatewayUnderTest, cents: int = 5_000) -> GatewayPayment:
    result = await subject.gateway.charge(usd(cents), subject.tokens["ok"], key())
    assert result.status == GatewayStatus.CAPTURED
    return result


async def refused(call: Awaitable[object], code: str | None = None) -> GatewayRequestError:
    with pytest.raises(GatewayRequestError) as raised:
        await call
    if code is not None:
        assert raised.value.code == code
    return raised.value


# Authorize and charge


async def test_a_good_card_is_authorized_for_the_full_amount(subject: GatewayUnderTest) -> None:
    result = await subject.gateway.authorize(
        usd(5_000), subject.tokens["ok"], key(), metadata={"order_id": "o-1"}
    )

    assert result.status == GatewayStatus.AUTHORIZED
    assert result.gateway_payment_id
    assert (result.amount, result.captured, result.refunded) == (usd(5_000), usd(0), usd(0))
    assert result.decline_code is None
    assert await subject.gateway.retrieve(result.gateway_payment_id) == result


async def test_a_charge_authorizes_and_captures_at_once(subject: GatewayUnderTest) -> None:
    result = await subject.gateway.charge(usd(5_000), subject.tokens["ok"], key())

    assert result.status == GatewayStatus.CAPTURED
    assert result.captured == usd(5_000)


@pytest.mark.parametrize(
    ("card", "decline_code"),
    [("declined", "card_declined"), ("insufficient_funds", "insufficient_funds")],
)
@pytest.mark.parametrize("operation", ["authorize", "charge"])
async def test_a_decline_is_a_failed_result_with_its_code(
    subject: GatewayUnderTest, card: str, decline_code: str, operation: str
) -> None:
    if card == "insufficient_funds":
        needs(subject, INSUFFICIENT_FUNDS)
    call = getattr(subject.gateway, operation)

    result = await call(usd(5_000), subject.tokens[card], key())

    assert result.status == GatewayStatus.FAILED
    assert result.decline_code == decline_code
    assert result.captured == usd(0)


async def test_3ds_needs_the_customer_then_authorizes(subject: GatewayUnderTest) -> None:
    result = await subject.gateway.authorize(usd(5_000), subject.tokens["3ds"], key())

    assert result.status == GatewayStatus.REQUIRES_ACTION
    assert result.client_secret

    await subject.authenticate(result, True)

    assert (await subject.gateway.retrieve(result.gateway_payment_id)).status == (
        GatewayStatus.AUTHORIZED
    )


async def test_3ds_on_a_charge_captures_once_the_customer_passes(
    subject: GatewayUnderTest,
) -> None:
    result = await subject.gateway.charge(usd(5_000), subject.tokens["3ds"], key())
    await subject.authenticate(result, True)

    after = await subject.gateway.retrieve(result.gateway_payment_id)
    assert (after.status, after.captured) == (GatewayStatus.CAPTURED, usd(5_000))


async def test_3ds_failed_by_the_customer_fails_the_payment(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    result = await subject.gateway.authorize(usd(5_000), subject.tokens["3ds"], key())

    await subject.authenticate(result, False)

    after = await subject.gateway.retrieve(result.gateway_payment_id)
    assert after.status == GatewayStatus.FAILED
    await refused(subject.gateway.capture(result.gateway_payment_id, None, key()))


# Idempotency


async def test_the_same_key_returns_the_same_payment_and_charges_once(
    subject: GatewayUnderTest,
) -> None:
    needs(subject, IDEMPOTENCY)
    same = key()

    first = await subject.gateway.charge(usd(5_000), subject.tokens["ok"], same)
    again = await subject.gateway.charge(usd(5_000), subject.tokens["ok"], same)

    # a second charge would be a second payment, with an id of its own
    assert again == first
    assert (await subject.gateway.retrieve(first.gateway_payment_id)).captured == usd(5_000)


async def test_the_same_key_captures_and_refunds_once(subject: GatewayUnderTest) -> None:
    needs(subject, IDEMPOTENCY)
    payment = await authorized(subject)
    capture_key, refund_key = key(), key()

    captured = await subject.gateway.capture(payment.gateway_payment_id, usd(4_000), capture_key)
    assert (
        await subject.gateway.capture(payment.gateway_payment_id, usd(4_000), capture_key)
        == captured
    )
    refund = await subject.gateway.refund(payment.gateway_payment_id, usd(1_000), refund_key)
    assert (
        await subject.gateway.refund(payment.gateway_payment_id, usd(1_000), refund_key) == refund
    )

    after = await subject.gateway.retrieve(payment.gateway_payment_id)
    assert (after.captured, after.refunded) == (usd(4_000), usd(1_000))


async def test_a_key_reused_for_a_different_request_is_refused(subject: GatewayUnderTest) -> None:
    needs(subject, IDEMPOTENCY)
    same = key()
    await subject.gateway.authorize(usd(5_000), subject.tokens["ok"], same)

    await refused(
        subject.gateway.authorize(usd(6_000), subject.tokens["ok"], same), "idempotency_key_reused"
    )


# Capture and void


async def test_a_partial_capture_takes_only_that_amount(subject: GatewayUnderTest) -> None:
    payment = await authorized(subject)

    result = await subject.gateway.capture(payment.gateway_payment_id, usd(3_000), key())

    assert (result.status, result.captured) == (GatewayStatus.CAPTURED, usd(3_000))


async def test_a_capture_without_an_amount_takes_everything(subject: GatewayUnderTest) -> None:
    payment = await authorized(subject)

    result = await subject.gateway.capture(payment.gateway_payment_id, None, key())

    assert result.captured == usd(5_000)


async def test_capturing_more_than_authorized_is_refused(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    payment = await authorized(subject)

    await refused(
        subject.gateway.capture(payment.gateway_payment_id, usd(5_001), key()), "amount_too_large"
    )

    after = await subject.gateway.retrieve(payment.gateway_payment_id)
    assert (after.status, after.captured) == (GatewayStatus.AUTHORIZED, usd(0))


async def test_a_void_releases_the_authorization_for_good(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    payment = await authorized(subject)

    result = await subject.gateway.void(payment.gateway_payment_id, key())

    assert result.status == GatewayStatus.VOIDED
    await refused(
        subject.gateway.capture(payment.gateway_payment_id, None, key()),
        "payment_intent_unexpected_state",
    )


async def test_a_captured_payment_cannot_be_voided(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    payment = await charged(subject)

    await refused(
        subject.gateway.void(payment.gateway_payment_id, key()), "payment_intent_unexpected_state"
    )


# Several captures per authorization (multicapture)


async def test_non_final_captures_add_up_and_a_final_one_ends_them(
    subject: GatewayUnderTest,
) -> None:
    needs(subject, MULTICAPTURE)
    payment = await authorized(subject)
    gateway_id = payment.gateway_payment_id

    first = await subject.gateway.capture(gateway_id, usd(1_000), key(), final=False)
    second = await subject.gateway.capture(gateway_id, usd(1_500), key(), final=False)
    last = await subject.gateway.capture(gateway_id, usd(2_000), key(), final=True)

    # captured from the first capture on, as our Payment is
    assert (first.status, first.captured) == (GatewayStatus.CAPTURED, usd(1_000))
    assert (second.status, second.captured) == (GatewayStatus.CAPTURED, usd(2_500))
    assert (last.status, last.captured, last.refunded) == (
        GatewayStatus.CAPTURED,
        usd(4_500),
        usd(0),
    )
    assert await subject.gateway.retrieve(gateway_id) == last


async def test_a_capture_without_an_amount_takes_all_that_is_left(
    subject: GatewayUnderTest,
) -> None:
    needs(subject, MULTICAPTURE)
    payment = await authorized(subject)
    await subject.gateway.capture(payment.gateway_payment_id, usd(1_200), key(), final=False)

    result = await subject.gateway.capture(payment.gateway_payment_id, None, key())

    assert result.captured == usd(5_000)


async def test_capturing_more_than_is_left_is_refused(subject: GatewayUnderTest) -> None:
    needs(subject, MULTICAPTURE)
    needs(subject, REFUSALS)
    payment = await authorized(subject)
    gateway_id = payment.gateway_payment_id
    await subject.gateway.capture(gateway_id, usd(3_000), key(), final=False)

    await refused(
        subject.gateway.capture(gateway_id, usd(2_001), key(), final=False), "amount_too_large"
    )

    assert (await subject.gateway.retrieve(gateway_id)).captured == usd(3_000)
    rest = await subject.gateway.capture(gateway_id, usd(2_000), key())
    assert rest.captured == usd(5_000)


async def test_a_final_capture_releases_the_rest(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    payment = await authorized(subject)
    gateway_id = payment.gateway_payment_id
    await subject.gateway.capture(gateway_id, usd(3_000), key(), final=True)

    await refused(
        subject.gateway.capture(gateway_id, usd(1_000), key()), "payment_intent_unexpected_state"
    )

    after = await subject.gateway.retrieve(gateway_id)
    assert (after.status, after.captured) == (GatewayStatus.CAPTURED, usd(3_000))


async def test_a_repeated_non_final_capture_answers_the_same_and_captures_once(
    subject: GatewayUnderTest,
) -> None:
    needs(subject, MULTICAPTURE)
    needs(subject, IDEMPOTENCY)
    payment = await authorized(subject)
    gateway_id = payment.gateway_payment_id
    same = key()

    first = await subject.gateway.capture(gateway_id, usd(1_000), same, final=False)
    again = await subject.gateway.capture(gateway_id, usd(1_000), same, final=False)

    assert again == first
    assert (await subject.gateway.retrieve(gateway_id)).captured == usd(1_000)
    # final is part of the request: the key cannot be reused for a final capture
    await refused(
        subject.gateway.capture(gateway_id, usd(1_000), same, final=True), "idempotency_key_reused"
    )


async def test_what_is_captured_can_be_refunded_before_the_final_capture(
    subject: GatewayUnderTest,
) -> None:
    needs(subject, MULTICAPTURE)
    payment = await authorized(subject)
    gateway_id = payment.gateway_payment_id
    await subject.gateway.capture(gateway_id, usd(2_000), key(), final=False)

    refund = await subject.gateway.refund(gateway_id, usd(500), key())
    rest = await subject.gateway.capture(gateway_id, None, key())

    assert refund.amount == usd(500)
    assert (rest.captured, rest.refunded) == (usd(5_000), usd(500))


async def test_a_partly_captured_payment_cannot_be_voided(subject: GatewayUnderTest) -> None:
    needs(subject, MULTICAPTURE)
    needs(subject, REFUSALS)
    payment = await authorized(subject)
    await subject.gateway.capture(payment.gateway_payment_id, usd(2_000), key(), final=False)

    await refused(
        subject.gateway.void(payment.gateway_payment_id, key()), "payment_intent_unexpected_state"
    )


# Refunds


async def test_partial_refunds_add_up_to_the_captured_amount(subject: GatewayUnderTest) -> None:
    payment = await charged(subject)

    first = await subject.gateway.refund(payment.gateway_payment_id, usd(2_000), key(), "damaged")
    second = await subject.gateway.refund(payment.gateway_payment_id, usd(3_000), key())

    assert first.gateway_refund_id != second.gateway_refund_id
    assert (first.amount, first.status) == (usd(2_000), GatewayRefundStatus.SUCCEEDED)
    assert first.gateway_payment_id == payment.gateway_payment_id
    assert (await subject.gateway.retrieve(payment.gateway_payment_id)).refunded == usd(5_000)


async def test_refunding_more_than_is_left_is_refused(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    payment = await charged(subject)
    await subject.gateway.refund(payment.gateway_payment_id, usd(4_000), key())

    await refused(
        subject.gateway.refund(payment.gateway_payment_id, usd(1_001), key()), "amount_too_large"
    )

    assert (await subject.gateway.retrieve(payment.gateway_payment_id)).refunded == usd(4_000)


async def test_refunding_more_than_a_partial_capture_is_refused(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    payment = await authorized(subject)
    await subject.gateway.capture(payment.gateway_payment_id, usd(2_000), key())

    await refused(
        subject.gateway.refund(payment.gateway_payment_id, usd(2_001), key()), "amount_too_large"
    )


async def test_nothing_uncaptured_is_refunded(subject: GatewayUnderTest) -> None:
    needs(subject, REFUSALS)
    payment = await authorized(subject)

    await refused(subject.gateway.refund(payment.gateway_payment_id, usd(1), key()))


async def test_an_unknown_payment_is_missing(subject: GatewayUnderTest) -> None:
    await refused(subject.gateway.retrieve("pi_does_not_exist"), "resource_missing")


# The test gateway's own behaviour (not part of the contract), in memory and in PostgreSQL


@pytest.fixture(params=["fake", "postgres-fake"])
async def fake(request: pytest.FixtureRequest) -> AsyncIterator[FakeGatewayBase]:
    under_test = await ADAPTERS[request.param](request)
    assert isinstance(under_test.gateway, FakeGatewayBase)
    yield under_test.gateway
    if under_test.close is not None:
        await under_test.close()


async def payments_made(fake: FakeGatewayBase) -> int:
    if isinstance(fake, PostgresFakeGateway):
        return await fake.count_payments()
    assert isinstance(fake, FakePaymentGateway)
    return fake.payment_count


async def test_the_fake_reports_its_fee_on_the_captured_amount(fake: FakeGatewayBase) -> None:
    authorized = await fake.authorize(usd(10_000), "tok_visa", key())
    captured = await fake.capture(authorized.gateway_payment_id, None, key())

    assert authorized.gateway_fee == usd(0)
    assert captured.gateway_fee == usd(290 + 30)


async def test_the_fake_s_fee_grows_with_each_capture(fake: FakeGatewayBase) -> None:
    authorized = await fake.authorize(usd(10_000), "tok_visa", key())
    first = await fake.capture(authorized.gateway_payment_id, usd(4_000), key(), final=False)
    second = await fake.capture(authorized.gateway_payment_id, usd(6_000), key())

    assert first.gateway_fee == usd(116 + 30)
    assert second.gateway_fee == usd(290 + 30)


async def test_a_call_that_fails_has_no_effect_and_can_be_retried(fake: FakeGatewayBase) -> None:
    fake.fail_next_call()
    same = key()

    with pytest.raises(GatewayUnavailableError):
        await fake.charge(usd(5_000), "tok_visa", same)
    assert await payments_made(fake) == 0

    result = await fake.charge(usd(5_000), "tok_visa", same)
    assert result.status == GatewayStatus.CAPTURED
    assert await payments_made(fake) == 1


async def test_a_retry_after_a_lost_response_gets_the_first_result_without_a_second_charge(
    fake: FakeGatewayBase,
) -> None:
    fake.lose_next_response()
    same = key()

    with pytest.raises(GatewayUnavailableError):
        await fake.charge(usd(5_000), "tok_visa", same)
    result = await fake.charge(usd(5_000), "tok_visa", same)

    assert result.status == GatewayStatus.CAPTURED
    assert await payments_made(fake) == 1


async def test_a_refusal_is_replayed_for_its_key_and_unknown_tokens_are_refused(
    fake: FakeGatewayBase,
) -> None:
    payment = await fake.authorize(usd(5_000), "tok_visa", key())
    same = key()

    await refused(fake.capture(payment.gateway_payment_id, usd(9_999), same), "amount_too_large")
    await refused(fake.capture(payment.gateway_payment_id, usd(9_999), same), "amount_too_large")
    await refused(fake.authorize(usd(5_000), "tok_unknown", key()), "resource_missing")


async def test_a_refusal_stays_the_answer_for_its_key_once_the_request_could_succeed(
    fake: FakeGatewayBase,
) -> None:
    payment = await fake.authorize(usd(5_000), "tok_3ds", key())
    same = key()
    await refused(fake.capture(payment.gateway_payment_id, None, same))

    await fake.void(payment.gateway_payment_id, key())

    await refused(
        fake.capture(payment.gateway_payment_id, None, same), "payment_intent_unexpected_state"
    )


async def test_a_marketplace_capture_keeps_the_fee_asked_capped_at_what_is_captured(
    fake: FakeGatewayBase,
) -> None:
    seller = Destination(account_id="acct_seller", application_fee=usd(500))
    payment = await fake.authorize(usd(5_000), "tok_visa", key(), destination=seller)
    gateway_id = payment.gateway_payment_id

    await fake.capture(gateway_id, usd(300), key(), final=False)
    capped = await destination_of(fake, gateway_id)
    await fake.capture(gateway_id, usd(2_000), key(), final=False)
    whole = await destination_of(fake, gateway_id)
    await fake.capture(gateway_id, usd(1_000), key(), application_fee=usd(400))
    asked = await destination_of(fake, gateway_id)

    assert capped == Destination(account_id="acct_seller", application_fee=usd(300))
    assert whole == seller
    assert asked == Destination(account_id="acct_seller", application_fee=usd(400))


async def test_a_capture_s_fee_is_at_most_what_is_captured_so_far(fake: FakeGatewayBase) -> None:
    seller = Destination(account_id="acct_seller", application_fee=usd(500))
    payment = await fake.authorize(usd(5_000), "tok_visa", key(), destination=seller)
    gateway_id = payment.gateway_payment_id
    await fake.capture(gateway_id, usd(300), key(), final=False)

    await refused(
        fake.capture(gateway_id, usd(100), key(), application_fee=usd(401)), "parameter_invalid"
    )
    await fake.capture(gateway_id, usd(100), key(), application_fee=usd(400))


async def destination_of(fake: FakeGatewayBase, gateway_id: str) -> Destination | None:
    if isinstance(fake, PostgresFakeGateway):
        return await fake.destination_of(gateway_id)
    assert isinstance(fake, FakePaymentGateway)
    return fake.destination_of(gateway_id)
