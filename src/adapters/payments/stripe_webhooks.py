"""Stripe webhooks: signature verification, and the gateway's ``WebhookVerifier`` and
``WebhookTranslator``.

Verification is the SDK's (``stripe.WebhookSignature.verify_header``): the
``Stripe-Signature`` header ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``
must match one of the configured secrets (several while a secret is rotated:
each is tried) and ``t`` must be within ``tolerance`` seconds of now, in either
direction: the SDK refuses only old ones, and a timestamp in the future would let a
captured signature be replayed for as long as it lies ahead. Only the
envelope (id, type) is read at that point; the rest waits for the worker, stored
without personal data (``stripe_personal_data``). A tenant's own Stripe account
signs with its own secret, passed as ``secrets``.
The translation of events is ``stripe_event_translation``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import msgspec
import stripe

from adapters.payments.stripe_event_translation import GATEWAY, translate
from adapters.payments.stripe_personal_data import scrub_payload
from commerce_core.payments.ports.webhooks import (
    InvalidSignatureError,
    ReceivedWebhook,
    UnreadableWebhookError,
    WebhookTranslation,
)

SIGNATURE_HEADER = "stripe-signature"
TOLERANCE = 300  # seconds, as Stripe's own libraries


def webhook_secrets(configured: str | None) -> list[str]:
    """The secrets in a comma-separated setting (``STRIPE_WEBHOOK_SECRET=whsec_new,whsec_old``)."""
    return [s.strip() for s in (configured or "").split(",") if s.strip()]


def signed_at(signature: str | None) -> int | None:
    """The ``t=`` of a ``Stripe-Signature`` header (the first one), or None."""
    for part in (signature or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None
    return None


class _Envelope(msgspec.Struct):
    """What receiving reads: decoding nothing else keeps the endpoint fast."""

    id: str
    type: str


def _decode_envelope(payload: bytes) -> _Envelope:
    try:
        return msgspec.json.decode(payload, type=_Envelope)
    except msgspec.DecodeError as error:
        raise UnreadableWebhookError(f"not a Stripe event: {error}") from None


class StripeWebhooks:
    """Verifies and translates the events of one Stripe account (or platform)."""

    gateway = GATEWAY
    signature_header = SIGNATURE_HEADER

    def __init__(
        self,
        secrets: Sequence[str],
        tolerance: int = TOLERANCE,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = [s for s in secrets if s]
        self._tolerance = tolerance
        self._now = now

    def verify(
        self, payload: bytes, signature: str | None, secrets: Sequence[str] | None = None
    ) -> ReceivedWebhook:
        """The event if the signature is good (with one of ``secrets``, default the
        configured ones); ``InvalidSignatureError`` if not, and ``UnreadableWebhookError``
        for a signed body that is not a Stripe event."""
        if not self._check(payload, signature, self._secrets if secrets is None else secrets):
            raise InvalidSignatureError("the Stripe-Signature does not match, or is too old")
        event = _decode_envelope(payload)
        return ReceivedWebhook(
            gateway=GATEWAY, event_id=event.id, type=event.type, payload=scrub_payload(payload)
        )

    def _check(self, payload: bytes, signature: str | None, secrets: Sequence[str]) -> bool:
        stamp = signed_at(signature)
        if stamp is None or stamp > self._now() + self._tolerance:
            return False
        for secret in secrets:
            if not secret:
                continue
            try:
                stripe.WebhookSignature.verify_header(payload, signature, secret, self._tolerance)
            except (stripe.SignatureVerificationError, ValueError):
                continue  # ValueError: a body that is not UTF-8
            return True
        return False

    def translate(self, payload: bytes) -> WebhookTranslation:
        return translate(payload)
