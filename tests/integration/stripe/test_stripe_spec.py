"""Every request the Stripe gateway sends is one Stripe's OpenAPI spec takes (``spec``).

The requests are the real SDK's, recorded (``recording``); the spec is Stripe's own
(tests/fixtures/vendor-specs/stripe), with the parameters it predates added as the SDK
declares them.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

import pytest
from stripe.params import (
    PaymentIntentCaptureParams,
    PaymentIntentCreateParamsPaymentMethodOptionsCard,
)

from adapters.payments.stripe import StripeGateway
from commerce_core.payments.ports.gateway import Destination
from commerce_core.shared.money import Money
from tests.integration.stripe import spec
from tests.integration.stripe.recording import (
    Recorded,
    Reply,
    Sent,
    charge,
    intent,
    ok,
    refund,
)

Call = Callable[[StripeGateway], Awaitable[object]]


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def stripe_answer(sent: Sent) -> Reply:
    """What Stripe answers each kind of request (the content does not matter here)."""
    if sent.path == "/v1/refunds":
        return ok(refund(1_000))
    if sent.path.endswith("/capture"):
        return ok(intent("succeeded", received=3_000, latest_charge=charge(5_000, 3_000)))
    if sent.path.endswith("/cancel"):
        return ok(intent("canceled"))
    return ok(intent("requires_capture"))


@pytest.fixture
def stripe_like(recorded: Recorded) -> Recorded:
    recorded.http.responder = stripe_answer
    return recorded


SELLER = Destination(account_id="acct_1", application_fee=usd(450))

CALLS: dict[str, Call] = {
    "authorize": lambda g: g.authorize(usd(5_000), "pm_card_visa", "k", {"order_id": "o-1"}),
    "authorize for a seller": lambda g: g.authorize(
        usd(5_000), "pm_card_visa", "k", destination=SELLER
    ),
    "charge": lambda g: g.charge(usd(5_000), "pm_card_visa", "k", {"order_id": "o-1"}),
    "charge for a seller": lambda g: g.charge(usd(5_000), "pm_card_visa", "k", destination=SELLER),
    "capture all": lambda g: g.capture("pi_1", None, "k"),
    "final partial capture": lambda g: g.capture("pi_1", usd(3_000), "k"),
    "non-final capture": lambda g: g.capture("pi_1", usd(3_000), "k", final=False),
    "non-final capture for a seller": lambda g: g.capture(
        "pi_1", usd(3_000), "k", application_fee=usd(90), final=False
    ),
    "void": lambda g: g.void("pi_1", "k"),
    "refund": lambda g: g.refund("pi_1", usd(1_000), "k", "requested_by_customer"),
    "refund with our reason and ids": lambda g: g.refund(
        "pi_1", usd(1_000), "k", "damaged", metadata={"refund_id": "r-1"}
    ),
    "refund of a seller's payment": lambda g: g.refund(
        "pi_1", usd(1_000), "k", reverse_transfer=True
    ),
    "retrieve": lambda g: g.retrieve("pi_1"),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_every_request_is_valid_for_stripe(stripe_like: Recorded, call: Call) -> None:
    await call(stripe_like.gateway)

    assert stripe_like.sent
    for sent in stripe_like.sent:
        assert spec.check(sent) == [], f"{sent.method} {sent.path} {sent.form}"


async def test_multicapture_is_asked_for_on_authorizations_as_the_spec_has_it(
    stripe_like: Recorded,
) -> None:
    await stripe_like.gateway.authorize(usd(5_000), "pm_card_visa", "k")

    body = spec.typed(
        spec.nested(stripe_like.last.form.items()), spec.operation_of(stripe_like.last).schema
    )
    assert body["payment_method_options"] == {"card": {"request_multicapture": "if_available"}}
    assert body["capture_method"] == "manual"


async def test_a_non_final_capture_sends_final_capture_false_as_a_boolean(
    stripe_like: Recorded,
) -> None:
    await stripe_like.gateway.capture("pi_1", usd(3_000), "k", final=False)

    operation = spec.operation_of(stripe_like.last)
    body = spec.typed(spec.nested(stripe_like.last.form.items()), operation.schema)
    assert body["final_capture"] is False
    assert spec.check(stripe_like.last) == []


# The checker itself


def test_the_sdk_still_declares_the_parameters_the_spec_predates() -> None:
    capture = inspect.get_annotations(PaymentIntentCaptureParams)
    card = inspect.get_annotations(PaymentIntentCreateParamsPaymentMethodOptionsCard)

    assert "bool" in str(capture["final_capture"])
    assert all(value in str(card["request_multicapture"]) for value in ("if_available", "never"))


def sent(path: str, **form: str) -> Sent:
    return Sent(method="POST", path=path, form=form, headers={})


def test_the_checker_refuses_unknown_and_mistyped_parameters() -> None:
    capture = "/v1/payment_intents/pi_1/capture"

    assert spec.check(sent(capture, amount_to_capture="3000", final_capture="false")) == []
    assert spec.check(sent(capture, amount_to_capture="three thousand"))
    assert spec.check(sent(capture, final_capture="maybe"))
    assert spec.check(sent(capture, unknown_parameter="1"))
    creation = {"amount": "5000", "currency": "usd"}
    assert (
        spec.check(
            sent(
                "/v1/payment_intents",
                **creation,
                **{"payment_method_options[card][request_multicapture]": "if_available"},
            )
        )
        == []
    )
    assert spec.check(
        sent(
            "/v1/payment_intents",
            **creation,
            **{"payment_method_options[card][request_multicaptur]": "if_available"},
        )
    )
    assert spec.check(
        sent(
            "/v1/payment_intents",
            **creation,
            **{"payment_method_options[card][request_multicapture]": "always"},
        )
    )
