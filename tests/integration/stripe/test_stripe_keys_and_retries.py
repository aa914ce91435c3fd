"""Idempotency keys, Stripe's refusals and retries, on recorded requests.

localstripe ignores idempotency keys and refuses without Stripe's error codes, and a real
server cannot be made to fail on cue: these are checked on what the SDK sends through a
recording HTTP client, answered with Stripe's documented errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from adapters.payments.stripe import StripeGateway
from adapters.payments.stripe_calls import stripe_idempotency_key
from commerce_core.payments.ports.gateway import (
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
)
from commerce_core.shared.money import Money
from tests.integration.stripe.recording import (
    Recorded,
    Reply,
    charge,
    connection_refused,
    declined,
    error,
    intent,
    ok,
    read_timeout,
    refund,
)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


# Idempotency (localstripe ignores keys; Stripe replays the first answer for a key)


Call = Callable[[StripeGateway, str], Awaitable[Any]]
CREATING_CALLS: dict[str, tuple[Call, Reply]] = {
    "authorize": (
        lambda g, k: g.authorize(usd(5_000), "pm_card_visa", k),
        ok(intent("requires_capture")),
    ),
    "charge": (
        lambda g, k: g.charge(usd(5_000), "pm_card_visa", k),
        ok(intent("succeeded", received=5_000, latest_charge=charge(5_000, 5_000))),
    ),
    "capture": (
        lambda g, k: g.capture("pi_1", usd(4_000), k),
        ok(intent("succeeded", received=4_000, latest_charge=charge(5_000, 4_000, 1_000))),
    ),
    "void": (lambda g, k: g.void("pi_1", k), ok(intent("canceled"))),
    "refund": (lambda g, k: g.refund("pi_1", usd(1_000), k), ok(refund(1_000))),
    "connect.create_seller_account": (
        lambda g, k: g.connect.create_seller_account(k, "US"),
        ok({"id": "acct_1", "object": "account"}),
    ),
    "connect.onboarding_link": (
        lambda g, k: g.connect.onboarding_link("acct_1", "https://r", "https://b", k),
        ok(
            {
                "object": "account_link",
                "expires_at": 1_767_225_900,
                "url": "https://connect.stripe.com/setup/e/acct_1/x",
            }
        ),
    ),
    "connect.destination_charge": (
        lambda g, k: g.connect.destination_charge(
            usd(5_000), "pm_card_visa", k, "acct_1", usd(500)
        ),
        ok(intent("succeeded", received=5_000, latest_charge=charge(5_000, 5_000))),
    ),
    "connect.refund_destination_charge": (
        lambda g, k: g.connect.refund_destination_charge("pi_1", usd(1_000), k),
        ok(refund(1_000)),
    ),
}


@pytest.mark.parametrize("name", sorted(CREATING_CALLS))
async def test_every_creating_call_sends_our_idempotency_key(recorded: Recorded, name: str) -> None:
    call, reply = CREATING_CALLS[name]
    recorded.answer(reply, reply)

    first = await call(recorded.gateway, "order-42:" + name)
    again = await call(recorded.gateway, "order-42:" + name)

    assert [sent.method for sent in recorded.sent] == ["POST", "POST"]
    assert [sent.idempotency_key for sent in recorded.sent] == ["order-42:" + name] * 2
    # the same request each time, so Stripe replays its first answer
    assert recorded.sent[0].form == recorded.sent[1].form
    assert again == first


async def test_a_key_too_long_for_stripe_is_sent_as_its_digest(recorded: Recorded) -> None:
    long_key = "k" * 300
    recorded.answer(ok(intent("requires_capture")), ok(intent("requires_capture")))

    await recorded.gateway.authorize(usd(5_000), "pm_card_visa", long_key)
    await recorded.gateway.authorize(usd(5_000), "pm_card_visa", long_key)

    sent_keys = {sent.idempotency_key for sent in recorded.sent}
    assert sent_keys == {stripe_idempotency_key(long_key)}
    assert len(stripe_idempotency_key(long_key)) <= 255
    assert stripe_idempotency_key("k" * 301) != stripe_idempotency_key(long_key)


async def test_a_replayed_decline_is_the_same_failed_payment(recorded: Recorded) -> None:
    recorded.answer(declined("card_declined", "insufficient_funds"))
    recorded.answer(declined("card_declined", "insufficient_funds"))

    first = await recorded.gateway.charge(usd(5_000), "pm_card_visa", "same")
    again = await recorded.gateway.charge(usd(5_000), "pm_card_visa", "same")

    assert again == first
    assert first.status == GatewayStatus.FAILED


async def test_a_key_reused_for_another_request_is_refused(recorded: Recorded) -> None:
    recorded.answer(error(400, type="idempotency_error", message="Keys can only be reused ..."))

    with pytest.raises(GatewayRequestError) as refused:
        await recorded.gateway.authorize(usd(6_000), "pm_card_visa", "used-for-5000")

    assert refused.value.code == "idempotency_key_reused"
    assert len(recorded.sent) == 1


# Stripe's refusals


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (error(400, code="amount_too_large"), "amount_too_large"),
        (error(400, code="charge_already_refunded"), "amount_too_large"),
        (error(400, code="payment_intent_unexpected_state"), "payment_intent_unexpected_state"),
        (error(400, code="charge_already_captured"), "payment_intent_unexpected_state"),
        (error(404, code="resource_missing"), "resource_missing"),
        (error(404), "resource_missing"),
        (error(400), "invalid_request"),
        (error(401, type="invalid_request_error"), "authentication_required"),
    ],
)
async def test_a_refusal_is_a_request_error_with_stripes_code_and_is_not_retried(
    recorded: Recorded, answer: Reply, code: str
) -> None:
    recorded.answer(answer)

    with pytest.raises(GatewayRequestError) as refused:
        await recorded.gateway.capture("pi_1", usd(5_001), "capture-3")

    assert refused.value.code == code
    assert (len(recorded.sent), recorded.waits) == (1, [])


async def test_a_card_error_on_capture_is_a_request_error(recorded: Recorded) -> None:
    recorded.answer(error(402, type="card_error", code="expired_card"))

    with pytest.raises(GatewayRequestError) as refused:
        await recorded.gateway.capture("pi_1", None, "capture-4")

    assert refused.value.code == "expired_card"


# Retries


@pytest.mark.parametrize(
    "failure",
    [
        error(500, type="api_error"),
        error(503, type="api_error"),
        error(429, type="rate_limit_error", code="rate_limit"),
        error(409, type="invalid_request_error", code="lock_timeout"),
        connection_refused(),
        read_timeout(),
    ],
    ids=["500", "503", "429", "409", "connection refused", "timeout"],
)
async def test_a_transient_failure_is_retried_with_the_same_request_and_key(
    recorded: Recorded, failure: Reply
) -> None:
    recorded.answer(failure, failure, ok(intent("requires_capture")))

    payment = await recorded.gateway.authorize(usd(5_000), "pm_card_visa", "retried")

    assert payment.status == GatewayStatus.AUTHORIZED
    assert len(recorded.sent) == 3
    assert {sent.idempotency_key for sent in recorded.sent} == {"retried"}
    assert recorded.sent[0].form == recorded.sent[1].form == recorded.sent[2].form
    assert recorded.waits == [0.25, 0.5]


@pytest.mark.parametrize(
    "failure", [error(502, type="api_error"), connection_refused(), read_timeout()]
)
async def test_failures_that_outlast_the_retries_leave_the_outcome_unknown(
    recorded: Recorded, failure: Reply
) -> None:
    recorded.answer(failure, failure, failure)

    with pytest.raises(GatewayUnavailableError):
        await recorded.gateway.charge(usd(5_000), "pm_card_visa", "unknown")

    assert len(recorded.sent) == 3
    assert recorded.waits == [0.25, 0.5]


async def test_stripe_can_forbid_a_retry(recorded: Recorded) -> None:
    recorded.answer(error(500, {"Stripe-Should-Retry": "false"}, type="api_error"))

    with pytest.raises(GatewayUnavailableError):
        await recorded.gateway.refund("pi_1", usd(1_000), "no-retry")

    assert (len(recorded.sent), recorded.waits) == (1, [])


async def test_waits_double_from_a_quarter_second_up_to_two_seconds() -> None:
    patient = Recorded(max_retries=5)
    patient.answer(*[error(503, type="api_error")] * 6)

    with pytest.raises(GatewayUnavailableError):
        await patient.gateway.retrieve("pi_1")
    await patient.gateway.close()

    assert patient.waits == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert len(patient.sent) == 6


async def test_retrieve_is_retried_too(recorded: Recorded) -> None:
    recorded.answer(connection_refused(), ok(intent("canceled")))

    payment = await recorded.gateway.retrieve("pi_1")

    assert payment.status == GatewayStatus.VOIDED
    assert recorded.waits == [0.25]
