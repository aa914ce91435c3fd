"""Stripe's events in our terms: a cancelled PaymentIntent is a void, and a refund names our
refund when it carries our metadata."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adapters.payments.stripe_event_translation import translate
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.webhooks import GatewayEventKind
from commerce_core.shared.money import Money
from tests.stripe_events import StripeEvents

K = GatewayEventKind
AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TENANT = "tenant-1"


def a_payment() -> Payment:
    payment = Payment.create(
        uuid.uuid4(), TENANT, uuid.uuid4(), Money(2000, "USD"), FeeSchedule(basis_points=300), AT
    )
    payment.authorize("pi_1", AT)
    return payment


def test_a_cancelled_payment_intent_is_a_void_of_our_payment() -> None:
    events, payment = StripeEvents(TENANT), a_payment()
    canceled = events.intent(payment, "canceled", cancellation_reason="requested_by_customer")

    meaning = translate(events.event("payment_intent.canceled", canceled, AT))

    [event] = meaning.events
    assert (event.kind, event.payment_id, event.code, event.at) == (
        K.PAYMENT_VOIDED,
        payment.id,
        None,
        AT,
    )
    assert (meaning.tenant_id, meaning.gateway_payment_id) == (TENANT, "pi_1")


def test_a_cancelled_payment_intent_whose_attempt_was_declined_carries_the_decline() -> None:
    events, payment = StripeEvents(TENANT), a_payment()
    declined = {"code": "card_declined", "decline_code": "insufficient_funds"}
    canceled = events.intent(payment, "canceled", last_payment_error=declined)

    [event] = translate(events.event("payment_intent.canceled", canceled, AT)).events

    assert (event.kind, event.code) == (K.PAYMENT_VOIDED, "insufficient_funds")


def test_a_refund_with_our_metadata_names_our_refund_tenant_and_payment() -> None:
    events, payment = StripeEvents(TENANT), a_payment()
    refund_id = uuid.uuid4()
    refund = events.refund(payment, "re_1", 500, "succeeded")
    refund["metadata"] = {
        "tenant_id": TENANT,
        "order_id": str(payment.order_id),
        "payment_id": str(payment.id),
        "refund_id": str(refund_id),
    }

    meaning = translate(events.event("refund.updated", refund, AT))

    [event] = meaning.events
    assert (event.kind, event.refund_id, event.gateway_refund_id, event.amount) == (
        K.REFUND_SUCCEEDED,
        refund_id,
        "re_1",
        Money(500, "USD"),
    )
    assert (event.payment_id, meaning.tenant_id) == (payment.id, TENANT)


def test_a_charge_lists_each_refund_with_its_own_refund_id() -> None:
    events, payment = StripeEvents(TENANT), a_payment()
    ours, dashboard = uuid.uuid4(), events.refund(payment, "re_2", 300, "succeeded")
    refund = {
        **events.refund(payment, "re_1", 500, "succeeded"),
        "metadata": {"refund_id": str(ours)},
    }
    charge = events.charge(payment, captured=True, refunds={"data": [refund, dashboard]})

    meaning = translate(events.event("charge.refunded", charge, AT))

    assert [(e.gateway_refund_id, e.refund_id) for e in meaning.events] == [
        ("re_1", ours),
        ("re_2", None),
    ]


def test_a_refund_made_in_the_dashboard_names_no_refund_of_ours() -> None:
    events, payment = StripeEvents(TENANT), a_payment()
    garbled = {**events.refund(payment, "re_1", 500, "succeeded"), "metadata": {"refund_id": "x"}}

    [event] = translate(events.event("refund.created", garbled, AT)).events

    assert (event.refund_id, event.payment_id) == (None, None)
