"""Stripe event payloads without personal data, as the webhook inbox stores them.

Processing reads ids, amounts, currencies, statuses, outcomes, fees, refunds,
disputes' reasons and our own ``metadata``; none of it names a person. What does
(billing and shipping details, emails, names, phones, addresses, a dispute's
evidence, a connected account's people and bank accounts, card details) is
dropped, wherever it sits in the event, before the payload is stored, so erasing a
customer leaves nothing of them in the inbox. ``metadata`` objects are what we
set on our own calls (ids) and stay as they are. Migration 0016 scrubs events
stored earlier with the same list (``scrub_personal_data`` in SQL); a test keeps
the two in step. See docs/adr/0021-erasure-is-complete.md.
"""

from __future__ import annotations

from typing import Any

import msgspec

from commerce_core.payments.ports.webhooks import UnreadableWebhookError

PERSONAL_FIELDS = frozenset(
    {
        "account_holder_name",
        "address",
        "billing_details",
        "business_profile",
        "cardholder_name",
        "company",
        "customer_address",
        "customer_details",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_shipping",
        "description",
        "dob",
        "email",
        "evidence",
        "external_accounts",
        "first_name",
        "individual",
        "ip",
        "ip_address",
        "last_name",
        "name",
        "owner",
        "payment_method_details",
        "phone",
        "receipt_email",
        "representative",
        "shipping",
        "shipping_details",
        "support_address",
        "support_email",
        "support_phone",
        "verified_address",
        "verified_email",
        "verified_name",
        "verified_phone",
    }
)
"""Keys dropped at any depth (outside ``metadata``)."""

KEPT_WHOLE = frozenset({"metadata"})


def without_personal_data(value: Any) -> Any:
    """``value`` (decoded JSON) with every personal field removed, at any depth."""
    if isinstance(value, dict):
        return {
            k: v if k in KEPT_WHOLE else without_personal_data(v)
            for k, v in value.items()
            if k not in PERSONAL_FIELDS
        }
    if isinstance(value, list):
        return [without_personal_data(v) for v in value]
    return value


def scrub_payload(payload: bytes) -> bytes:
    """The event's JSON without personal fields; ``UnreadableWebhookError`` if not JSON."""
    try:
        return msgspec.json.encode(without_personal_data(msgspec.json.decode(payload)))
    except (msgspec.DecodeError, RecursionError):
        raise UnreadableWebhookError("not a Stripe event: unreadable JSON") from None
