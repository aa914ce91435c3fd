"""Stripe signatures are believed only within the tolerance of now, both ways (ADR 0019)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.payments.stripe_webhooks import TOLERANCE, StripeWebhooks, signed_at
from commerce_core.payments.ports.webhooks import InvalidSignatureError
from tests.stripe_events import sign

SECRET = "whsec_unit"
NOW = 1_800_000_000
PAYLOAD = b'{"id": "evt_1", "type": "customer.created"}'


def verifier() -> StripeWebhooks:
    return StripeWebhooks([SECRET], now=lambda: float(NOW))


@pytest.mark.parametrize("offset", [-TOLERANCE + 5, 0, 60, TOLERANCE])
def test_a_signature_within_the_tolerance_is_believed(offset: int) -> None:
    # the SDK's own check (too old) reads the real clock: sign relative to it there
    stamp = int(time.time()) + offset
    hooks = StripeWebhooks([SECRET], now=lambda: float(stamp - offset))

    assert hooks.verify(PAYLOAD, sign(PAYLOAD, SECRET, stamp)).event_id == "evt_1"


@given(st.integers(min_value=TOLERANCE + 1, max_value=10**11))
def test_a_signature_dated_beyond_the_tolerance_ahead_is_refused(ahead: int) -> None:
    with pytest.raises(InvalidSignatureError):
        verifier().verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW + ahead))


@pytest.mark.parametrize(
    ("header", "stamp"),
    [
        ("t=12,v1=ab", 12),
        ("v1=ab, t=12", 12),
        ("t=12,t=99,v1=ab", 12),
        ("t=,v1=ab", None),
        ("t=-5,v1=ab", None),
        ("t=\uff11\uff12,v1=ab", None),  # full-width digits are not a time
        ("t=" + "9" * 5000 + ",v1=ab", None),
        ("v1=ab", None),
        ("", None),
        (None, None),
    ],
)
def test_the_time_of_a_header_is_read_strictly(header: str | None, stamp: int | None) -> None:
    assert signed_at(header) == stamp


def test_a_header_without_a_time_is_refused() -> None:
    signature = sign(PAYLOAD, SECRET, NOW).split(",")[1]

    with pytest.raises(InvalidSignatureError):
        verifier().verify(PAYLOAD, signature)
