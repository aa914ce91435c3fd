"""What the Stripe adapter sends and how it reads Stripe's answers, on recorded requests.

The real SDK encodes every request; a recording HTTP client (``recording``) keeps it and
answers with canned Stripe JSON: exact request shapes, statuses, amounts, fees and declines.
"""

from __future__ import annotations

import pytest

from commerce_core.payments.ports.gateway import (
    GatewayRefundStatus,
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
)
from commerce_core.shared.money import Money
from tests.integration.stripe.recording import (
    EXPAND,
    MULTICAPTURE,
    SECRET_KEY,
    Recorded,
    Reply,
    charge,
    declined,
    error,
    intent,
    ok,
    refund,
)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


# What each call sends


async def test_an_authorization_is_a_confirmed_payment_intent_with_manual_capture(
    recorded: Recorded,
) -> None:
    recorded.answer(ok(intent("requires_capture")))

    payment = await recorded.gateway.authorize(
        usd(5_000), "pm_card_visa", "auth-1", metadata={"order_id": "o-1"}
    )

    assert (recorded.last.method, recorded.last.path) == ("POST", "/v1/payment_intents")
    assert recorded.last.form == {
        "amount": "5000",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "capture_method": "manual",
        "confirm": "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        **MULTICAPTURE,
        "metadata[order_id]": "o-1",
        **EXPAND,
    }
    assert recorded.last.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert recorded.last.idempotency_key == "auth-1"
    assert (payment.gateway_payment_id, payment.status) == ("pi_1", GatewayStatus.AUTHORIZED)
    assert (payment.captured, payment.gateway_fee) == (usd(0), None)


async def test_a_charge_captures_automatically_and_reports_stripes_fee(recorded: Recorded) -> None:
    recorded.answer(
        ok(intent("succeeded", received=5_000, latest_charge=charge(5_000, 5_000, fee=175)))
    )

    payment = await recorded.gateway.charge(usd(5_000), "pm_card_visa", "charge-1")

    assert recorded.last.form["capture_method"] == "automatic"
    assert not MULTICAPTURE.keys() & recorded.last.form.keys()
    assert (payment.status, payment.captured, payment.gateway_fee) == (
        GatewayStatus.CAPTURED,
        usd(5_000),
        usd(175),
    )


async def test_a_fee_in_another_currency_than_the_payment_is_not_reported(
    recorded: Recorded,
) -> None:
    settled_in_eur = charge(5_000, 5_000, fee=160, currency="usd")
    settled_in_eur["balance_transaction"]["currency"] = "eur"
    recorded.answer(ok(intent("succeeded", received=5_000, latest_charge=settled_in_eur)))

    payment = await recorded.gateway.charge(usd(5_000), "pm_card_visa", "charge-2")

    assert payment.gateway_fee is None


async def test_a_partial_capture_sends_the_amount_and_counts_no_release_as_refunded(
    recorded: Recorded,
) -> None:
    # Stripe refunds the uncaptured 2,000 and counts it in amount_refunded
    captured = charge(5_000, 3_000, refunded=2_000 + 500, fee=117)
    recorded.answer(ok(intent("succeeded", received=3_000, latest_charge=captured)))

    payment = await recorded.gateway.capture("pi_1", usd(3_000), "capture-1")

    assert (recorded.last.method, recorded.last.path) == (
        "POST",
        "/v1/payment_intents/pi_1/capture",
    )
    assert recorded.last.form == {"amount_to_capture": "3000", **EXPAND}
    assert recorded.last.idempotency_key == "capture-1"
    assert (payment.captured, payment.refunded) == (usd(3_000), usd(500))


async def test_a_capture_of_everything_sends_no_amount(recorded: Recorded) -> None:
    recorded.answer(ok(intent("succeeded", received=5_000, latest_charge=charge(5_000, 5_000))))

    await recorded.gateway.capture("pi_1", None, "capture-2")

    assert recorded.last.form == EXPAND


# Several captures per authorization (multicapture)


async def test_a_non_final_capture_sends_final_capture_false_and_reads_what_it_took(
    recorded: Recorded,
) -> None:
    # Stripe keeps the PaymentIntent in requires_capture, with what was taken received
    partly = charge(5_000, 1_000, fee=59)
    recorded.answer(ok(intent("requires_capture", received=1_000, latest_charge=partly)))

    payment = await recorded.gateway.capture("pi_1", usd(1_000), "capture-5", final=False)

    assert recorded.last.path == "/v1/payment_intents/pi_1/capture"
    assert recorded.last.form == {"amount_to_capture": "1000", "final_capture": "false", **EXPAND}
    assert recorded.last.idempotency_key == "capture-5"
    # captured from the first capture on, the rest still capturable
    assert (payment.status, payment.captured, payment.refunded, payment.gateway_fee) == (
        GatewayStatus.CAPTURED,
        usd(1_000),
        usd(0),
        usd(59),
    )


async def test_a_final_capture_sends_no_final_capture_stripe_defaults_to_true(
    recorded: Recorded,
) -> None:
    recorded.answer(ok(intent("succeeded", received=5_000, latest_charge=charge(5_000, 5_000))))

    await recorded.gateway.capture("pi_1", usd(4_000), "capture-6", final=True)

    assert recorded.last.form == {"amount_to_capture": "4000", **EXPAND}


async def test_an_authorization_not_yet_captured_reads_as_authorized(recorded: Recorded) -> None:
    recorded.answer(ok(intent("requires_capture", received=0, latest_charge=charge(5_000))))

    payment = await recorded.gateway.retrieve("pi_1")

    assert (payment.status, payment.captured) == (GatewayStatus.AUTHORIZED, usd(0))


async def test_refunds_before_the_final_capture_count_whole(recorded: Recorded) -> None:
    # nothing released yet: all of amount_refunded was refunded
    partly = charge(5_000, 2_000, refunded=500)
    recorded.answer(ok(intent("requires_capture", received=2_000, latest_charge=partly)))

    payment = await recorded.gateway.retrieve("pi_1")

    assert (payment.status, payment.captured, payment.refunded) == (
        GatewayStatus.CAPTURED,
        usd(2_000),
        usd(500),
    )


async def test_after_the_final_capture_the_released_rest_is_no_refund(recorded: Recorded) -> None:
    # 4,500 captured in several captures, 500 released, then 300 refunded
    done = charge(5_000, 4_500, refunded=500 + 300)
    recorded.answer(ok(intent("succeeded", received=4_500, latest_charge=done)))

    payment = await recorded.gateway.retrieve("pi_1")

    assert (payment.captured, payment.refunded) == (usd(4_500), usd(300))


@pytest.mark.parametrize(
    "refusal",
    [
        pytest.param(
            error(400, param="final_capture", message="Multicapture is not available."),
            id="final_capture-refused",
        ),
        pytest.param(
            error(400, code="payment_intent_unexpected_state", message="no multicapture here"),
            id="multicapture-named",
        ),
        pytest.param(error(400, message="Unexpected final_capture"), id="localstripe"),
    ],
)
async def test_a_non_final_capture_without_multicapture_is_refused_as_such(
    recorded: Recorded, refusal: Reply
) -> None:
    recorded.answer(refusal)

    with pytest.raises(GatewayRequestError) as refused:
        await recorded.gateway.capture("pi_1", usd(1_000), "capture-7", final=False)

    assert refused.value.code == "multicapture_unavailable"
    assert len(recorded.sent) == 1  # not retried


async def test_other_refusals_of_a_non_final_capture_keep_their_code(recorded: Recorded) -> None:
    recorded.answer(error(400, code="amount_too_large", param="amount_to_capture"))

    with pytest.raises(GatewayRequestError) as refused:
        await recorded.gateway.capture("pi_1", usd(9_000), "capture-8", final=False)

    assert refused.value.code == "amount_too_large"


async def test_a_final_capture_is_never_refused_for_multicapture(recorded: Recorded) -> None:
    recorded.answer(error(400, code="payment_intent_unexpected_state", message="multicapture"))

    with pytest.raises(GatewayRequestError) as refused:
        await recorded.gateway.capture("pi_1", usd(1_000), "capture-9")

    assert refused.value.code == "payment_intent_unexpected_state"


async def test_a_void_cancels_the_payment_intent(recorded: Recorded) -> None:
    recorded.answer(ok(intent("canceled")))

    payment = await recorded.gateway.void("pi_1", "void-1")

    assert (recorded.last.method, recorded.last.path) == ("POST", "/v1/payment_intents/pi_1/cancel")
    assert recorded.last.idempotency_key == "void-1"
    assert payment.status == GatewayStatus.VOIDED


@pytest.mark.parametrize(
    ("reason", "fields"),
    [
        ("requested_by_customer", {"reason": "requested_by_customer"}),
        ("damaged", {"metadata[reason]": "damaged"}),  # Stripe takes only its own reasons
        (None, {}),
    ],
)
async def test_a_refund_names_the_payment_intent_and_the_amount(
    recorded: Recorded, reason: str | None, fields: dict[str, str]
) -> None:
    recorded.answer(ok(refund(1_000)))

    result = await recorded.gateway.refund("pi_1", usd(1_000), "refund-1", reason)

    assert (recorded.last.method, recorded.last.path) == ("POST", "/v1/refunds")
    assert recorded.last.form == {"payment_intent": "pi_1", "amount": "1000", **fields}
    assert recorded.last.idempotency_key == "refund-1"
    assert (result.gateway_refund_id, result.status, result.amount) == (
        "re_1",
        GatewayRefundStatus.SUCCEEDED,
        usd(1_000),
    )


@pytest.mark.parametrize(
    ("stripe_status", "ours"),
    [
        ("pending", GatewayRefundStatus.PENDING),
        ("requires_action", GatewayRefundStatus.PENDING),
        ("failed", GatewayRefundStatus.FAILED),
        ("canceled", GatewayRefundStatus.FAILED),
    ],
)
async def test_a_refund_not_yet_done_is_pending_and_a_failed_one_failed(
    recorded: Recorded, stripe_status: str, ours: GatewayRefundStatus
) -> None:
    recorded.answer(ok(refund(1_000, status=stripe_status)))

    result = await recorded.gateway.refund("pi_1", usd(1_000), "refund-2")

    assert result.status == ours


async def test_retrieve_reads_the_payment_intent_without_a_key(recorded: Recorded) -> None:
    recorded.answer(ok(intent("requires_capture")))

    payment = await recorded.gateway.retrieve("pi_1")

    assert (recorded.last.method, recorded.last.path) == ("GET", "/v1/payment_intents/pi_1")
    assert recorded.last.form == EXPAND
    assert recorded.last.idempotency_key is None
    assert payment.status == GatewayStatus.AUTHORIZED


async def test_3ds_gives_requires_action_with_the_client_secret(recorded: Recorded) -> None:
    recorded.answer(ok(intent("requires_action", next_action={"type": "use_stripe_sdk"})))

    payment = await recorded.gateway.authorize(usd(5_000), "pm_card_threeDSecure2Required", "3ds")

    assert (payment.status, payment.client_secret) == (
        GatewayStatus.REQUIRES_ACTION,
        "pi_1_secret_abc",
    )


async def test_a_payment_still_processing_has_no_outcome_yet(recorded: Recorded) -> None:
    recorded.answer(ok(intent("processing")))

    with pytest.raises(GatewayUnavailableError):
        await recorded.gateway.retrieve("pi_1")


# Declines


@pytest.mark.parametrize(
    ("code", "decline_code", "ours"),
    [
        ("card_declined", "insufficient_funds", "insufficient_funds"),
        ("card_declined", "generic_decline", "card_declined"),
        ("card_declined", None, "card_declined"),
        ("expired_card", None, "expired_card"),
    ],
)
@pytest.mark.parametrize("operation", ["authorize", "charge"])
async def test_a_decline_is_a_failed_payment_with_the_most_specific_code(
    recorded: Recorded, operation: str, code: str, decline_code: str | None, ours: str
) -> None:
    recorded.answer(declined(code, decline_code))

    payment = await getattr(recorded.gateway, operation)(usd(5_000), "pm_card_visa", "declined")

    assert (payment.gateway_payment_id, payment.status, payment.decline_code) == (
        "pi_1",
        GatewayStatus.FAILED,
        ours,
    )
    assert len(recorded.sent) == 1  # Stripe's error holds the PaymentIntent


async def test_a_payment_that_failed_3ds_is_failed_with_authentication_failed(
    recorded: Recorded,
) -> None:
    failure = {"code": "payment_intent_authentication_failure", "message": "failed"}
    recorded.answer(ok(intent("requires_payment_method", last_payment_error=failure)))

    payment = await recorded.gateway.retrieve("pi_1")

    assert (payment.status, payment.decline_code) == (GatewayStatus.FAILED, "authentication_failed")
