"""Stripe payloads are stored without personal data, and processing reads them the same."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.payments.stripe_event_translation import translate
from adapters.payments.stripe_personal_data import (
    KEPT_WHOLE,
    PERSONAL_FIELDS,
    scrub_payload,
    without_personal_data,
)
from adapters.payments.stripe_webhooks import StripeWebhooks
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.webhooks import UnreadableWebhookError
from commerce_core.shared.money import Money
from tests.stripe_events import SECRET, StripeEvents, sign
from tests.stripe_story import ROLES, story_events

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TENANT = "tenant-1"
PERSON = {
    "billing_details": {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "address": {"line1": "12 St James Sq", "city": "London", "country": "GB"},
    },
    "receipt_email": "ada@example.com",
    "shipping": {"name": "Ada Lovelace", "address": {"line1": "12 St James Sq"}},
    "payment_method_details": {"card": {"last4": "4242", "exp_year": 2030}},
    "evidence": {"customer_name": "Ada Lovelace", "customer_email_address": "ada@example.com"},
    "individual": {"first_name": "Ada", "last_name": "Lovelace", "dob": {"year": 1815}},
    "business_profile": {"support_email": "ada@example.com"},
}
SECRETS = ("Ada", "Lovelace", "ada@", "7946", "St James", "London", "4242", "1815")

keys = st.sampled_from(sorted(PERSONAL_FIELDS | KEPT_WHOLE | {"id", "amount", "data", "x"}))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def keys_outside_metadata(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = set(value)
        for k, v in value.items():
            if k not in KEPT_WHOLE:
                found |= keys_outside_metadata(v)
        return found
    if isinstance(value, list):
        return set().union(*(keys_outside_metadata(v) for v in value))
    return set()


@given(json_values)
def test_no_personal_key_is_left_at_any_depth_and_the_rest_stays(value: Any) -> None:
    scrubbed = without_personal_data(value)

    assert not keys_outside_metadata(scrubbed) & PERSONAL_FIELDS
    assert without_personal_data(scrubbed) == scrubbed
    if isinstance(value, dict):
        assert set(scrubbed) == set(value) - PERSONAL_FIELDS
        for kept in KEPT_WHOLE & set(value):
            assert scrubbed[kept] == value[kept]  # our metadata, as we set it


def payments() -> dict[str, Payment]:
    opened = {}
    for n, role in enumerate(ROLES):
        payment = Payment.create(
            uuid.uuid4(),
            TENANT,
            uuid.uuid4(),
            Money(2000, "USD"),
            FeeSchedule(basis_points=300),
            AT,
        )
        payment.authorize(f"pi_{n}", AT)
        opened[role] = payment
    return opened


def with_person(payload: bytes) -> bytes:
    event = msgspec.json.decode(payload)
    event["data"]["object"].update(PERSON)
    return msgspec.json.encode(event)


@pytest.mark.parametrize("payload", story_events(StripeEvents(TENANT), payments(), AT))
def test_every_event_type_translates_the_same_without_its_personal_data(payload: bytes) -> None:
    original = with_person(payload)

    scrubbed = scrub_payload(original)

    assert translate(scrubbed) == translate(original)
    for secret in SECRETS:
        assert secret in original.decode()
        assert secret not in scrubbed.decode(), secret


def test_the_verifier_hands_on_the_scrubbed_payload_and_refuses_what_is_not_json() -> None:
    verifier = StripeWebhooks([SECRET])
    events = StripeEvents(TENANT)
    payload = with_person(events.event("charge.succeeded", {"id": "ch_1", "metadata": {}}, AT))

    received = verifier.verify(payload, sign(payload, SECRET, int(time.time())))

    assert (received.event_id, received.type) == ("evt_000001", "charge.succeeded")
    assert "Lovelace" not in received.payload.decode()
    with pytest.raises(UnreadableWebhookError):
        scrub_payload(b'{"id": "evt_1", "a": ' + b"[" * 2000 + b"]" * 2000 + b"}")  # too deep
    with pytest.raises(UnreadableWebhookError):
        scrub_payload(b'{"id": "evt_1", "type": "x"')
