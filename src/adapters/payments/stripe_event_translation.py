"""Stripe events (webhook payloads) in our terms: ``GatewayEvent``s, a seller account, or
nothing to record.

By event type:

- ``payment_intent.succeeded``: payment succeeded, for the amount received;
  ``payment_intent.payment_failed``: failed, with the decline code;
  ``payment_intent.canceled``: voided (an authorization released or expired, a
  3-D Secure abandoned), with the decline code if its last attempt was declined;
  ``payment_intent.created``: nothing to record (our own call records it) but it
  teaches which tenant the PaymentIntent belongs to.
- ``charge.succeeded`` / ``charge.captured``: succeeded for ``amount_captured``
  if captured, else authorized; ``charge.failed``: failed; ``charge.refunded``:
  each refund the charge lists, succeeded or failed.
- ``charge.dispute.created``: dispute opened; ``charge.dispute.closed``: closed,
  ``won`` (and ``warning_closed``: an inquiry that never became a chargeback) or
  ``lost``.
- ``refund.created`` / ``refund.updated`` / ``refund.failed`` /
  ``charge.refund.updated``: the refund succeeded or failed (pending: nothing yet).
  Our refunds carry our ids as metadata (``refund_id``, ``payment_id``,
  ``tenant_id``): the event names our refund; one without is a refund made in
  Stripe's dashboard.
- ``account.updated``: a seller account's flags and what Stripe still needs; its
  metadata (set when we opened it) names the tenant and the seller.

The endpoint should use API version 2025-03-31 (basil) or later: before it, Stripe
announced a partial capture's released rest and a cancellation as refunds, which
would read here as refunds made in Stripe's dashboard.

Payments and charges carry our metadata (``tenant_id``, ``payment_id``: Stripe
copies a PaymentIntent's metadata to its charge); refunds and disputes name only
the PaymentIntent. Every other type is ignored. Times are the event's ``created``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from adapters.payments.stripe_connect import currently_due
from adapters.payments.stripe_mapping import decline_code
from commerce_core.marketplace.ports import AccountUpdate, SellerAccount
from commerce_core.ordering.order import DisputeOutcome
from commerce_core.payments.ports.webhooks import (
    GatewayEvent,
    GatewayEventKind,
    UnreadableWebhookError,
    WebhookTranslation,
)
from commerce_core.shared.money import Money

K = GatewayEventKind
GATEWAY = "stripe"

DISPUTE_OUTCOMES = {
    "won": DisputeOutcome.WON,
    "warning_closed": DisputeOutcome.WON,
    "lost": DisputeOutcome.LOST,
}


class _Data(msgspec.Struct):
    object: dict[str, Any]


class _Event(msgspec.Struct):
    id: str
    type: str
    data: _Data
    created: int = 0


def _decode(payload: bytes) -> _Event:
    try:
        return msgspec.json.decode(payload, type=_Event)
    except msgspec.DecodeError as error:  # ValidationError is a DecodeError
        raise UnreadableWebhookError(f"not a Stripe event: {error}") from None


def translate(payload: bytes) -> WebhookTranslation:
    """The event's meaning; ``UnreadableWebhookError`` for a payload that is not one."""
    event = _decode(payload)
    translation = _TRANSLATIONS.get(event.type)
    if translation is None:
        return WebhookTranslation(ignored=f"{event.type} is not handled")
    try:
        return translation(_Source(event))
    except (KeyError, TypeError, ValueError) as error:
        raise UnreadableWebhookError(f"{event.type} {event.id}: {error!r}") from None


class _Source:
    """The parts of an event the translations read."""

    def __init__(self, event: _Event) -> None:
        self.id = event.id
        self.object = event.data.object
        self.at = datetime.fromtimestamp(event.created, UTC) if event.created else None
        self.metadata = _metadata(self.object)

    def money(self, amount: Any) -> Money:
        return Money(int(amount), str(self.object["currency"]).upper())

    def gateway_event(self, kind: GatewayEventKind, payment: str, **fields: Any) -> GatewayEvent:
        fields.setdefault("id", self.id)
        return GatewayEvent(
            kind=kind,
            gateway=GATEWAY,
            gateway_payment_id=payment,
            payment_id=_uuid(self.metadata.get("payment_id")),
            at=self.at,
            **fields,
        )

    def ours(
        self, payment: str, *events: GatewayEvent, ignored: str | None = None
    ) -> WebhookTranslation:
        return WebhookTranslation(
            events=list(events),
            tenant_id=self.metadata.get("tenant_id"),
            gateway_payment_id=payment,
            ignored=ignored,
        )


def _metadata(obj: Mapping[str, Any]) -> dict[str, str]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping):
        return {}
    return {str(k): v for k, v in metadata.items() if isinstance(v, str)}


def _uuid(raw: str | None) -> UUID | None:
    try:
        return UUID(raw) if raw else None
    except ValueError:
        return None


def _not_ours(what: str) -> WebhookTranslation:
    return WebhookTranslation(ignored=f"{what} without our metadata is not one of our payments")


def _payment_intent(source: _Source) -> WebhookTranslation | str:
    """The PaymentIntent's id, or the translation of one that is not ours."""
    if "tenant_id" not in source.metadata:
        return _not_ours("a PaymentIntent")
    return str(source.object["id"])


def _intent_created(source: _Source) -> WebhookTranslation:
    intent = _payment_intent(source)
    if isinstance(intent, WebhookTranslation):
        return intent
    return source.ours(intent, ignored="our own call records a new payment")


def _intent_succeeded(source: _Source) -> WebhookTranslation:
    intent = _payment_intent(source)
    if isinstance(intent, WebhookTranslation):
        return intent
    received = source.object.get("amount_received")
    amount = source.money(received) if received else None  # None: all of it
    return source.ours(intent, source.gateway_event(K.PAYMENT_SUCCEEDED, intent, amount=amount))


def _intent_failed(source: _Source) -> WebhookTranslation:
    intent = _payment_intent(source)
    if isinstance(intent, WebhookTranslation):
        return intent
    code = decline_code(source.object.get("last_payment_error")) or "card_declined"
    return source.ours(intent, source.gateway_event(K.PAYMENT_FAILED, intent, code=code))


def _intent_canceled(source: _Source) -> WebhookTranslation:
    intent = _payment_intent(source)
    if isinstance(intent, WebhookTranslation):
        return intent
    # the decline of its last attempt, if any: a declined payment cancelled later stays failed
    code = decline_code(source.object.get("last_payment_error"))
    return source.ours(intent, source.gateway_event(K.PAYMENT_VOIDED, intent, code=code))


def _charge_intent(source: _Source) -> WebhookTranslation | str:
    intent = source.object.get("payment_intent")
    if not isinstance(intent, str):
        return WebhookTranslation(ignored="a charge without a PaymentIntent is not ours")
    if "tenant_id" not in source.metadata:
        return _not_ours("a charge")
    return intent


def _fee(source: _Source) -> Money | None:
    transaction = source.object.get("balance_transaction")
    if not isinstance(transaction, Mapping) or transaction.get("fee") is None:
        return None
    if str(transaction.get("currency", "")).upper() != str(source.object["currency"]).upper():
        return None
    return source.money(transaction["fee"])


def _charge_succeeded(source: _Source) -> WebhookTranslation:
    intent = _charge_intent(source)
    if isinstance(intent, WebhookTranslation):
        return intent
    charge = source.object
    if not charge.get("captured"):
        return source.ours(intent, source.gateway_event(K.PAYMENT_AUTHORIZED, intent))
    amount = source.money(charge.get("amount_captured") or charge["amount"])
    event = source.gateway_event(
        K.PAYMENT_SUCCEEDED, intent, amount=amount, gateway_fee=_fee(source)
    )
    return source.ours(intent, event)


def _charge_failed(source: _Source) -> WebhookTranslation:
    intent = _charge_intent(source)
    if isinstance(intent, WebhookTranslation):
        return intent
    outcome = source.object.get("outcome") or {}
    issuer = outcome.get("reason") if outcome.get("type") == "issuer_declined" else None
    error = {"code": source.object.get("failure_code"), "decline_code": issuer}
    code = decline_code(error) if error["code"] or issuer else "card_declined"
    return source.ours(intent, source.gateway_event(K.PAYMENT_FAILED, intent, code=code))


# A refund Stripe records for a released authorization, not money sent back.
_RELEASES = frozenset({"expired_uncaptured_charge"})


def _refund_event(
    source: _Source, intent: str, refund: Mapping[str, Any], event_id: str
) -> GatewayEvent | None:
    status = refund.get("status")
    if refund.get("reason") in _RELEASES:
        return None
    fields: dict[str, Any] = {"id": event_id, "gateway_refund_id": str(refund["id"])}
    fields["refund_id"] = _uuid(_metadata(refund).get("refund_id"))
    fields["amount"] = Money(int(refund["amount"]), str(refund["currency"]).upper())
    if status == "succeeded":
        return source.gateway_event(K.REFUND_SUCCEEDED, intent, **fields)
    if status in ("failed", "canceled"):
        code = refund.get("failure_reason") or str(status)
        return source.gateway_event(K.REFUND_FAILED, intent, code=code, **fields)
    return None  # pending or requires_action: its outcome comes later


def _charge_refunded(source: _Source) -> WebhookTranslation:
    intent = _charge_intent(source)
    if isinstance(intent, WebhookTranslation):
        return intent
    listed = (source.object.get("refunds") or {}).get("data") or []
    events = [
        event
        for refund in listed
        if (event := _refund_event(source, intent, refund, f"{source.id}:{refund['id']}"))
    ]
    ignored = None if events else "the charge lists no settled refund (refund.* events will)"
    return source.ours(intent, *events, ignored=ignored)


def _refund(source: _Source) -> WebhookTranslation:
    intent = source.object.get("payment_intent")
    if not isinstance(intent, str):
        return WebhookTranslation(ignored="a refund without a PaymentIntent is not ours")
    event = _refund_event(source, intent, source.object, source.id)
    if event is None:
        released = source.object.get("reason") in _RELEASES
        why = "a released authorization" if released else f"refund is {source.object.get('status')}"
        return source.ours(intent, ignored=why)
    return source.ours(intent, event)


def _dispute(source: _Source, closed: bool) -> WebhookTranslation:
    dispute = source.object
    intent = dispute.get("payment_intent")
    if not isinstance(intent, str):
        return WebhookTranslation(ignored="a dispute without a PaymentIntent is not ours")
    fields: dict[str, Any] = {
        "dispute_id": str(dispute["id"]),
        "amount": source.money(dispute["amount"]),
        "code": dispute.get("reason") or None,
    }
    if not closed:
        return source.ours(intent, source.gateway_event(K.DISPUTE_OPENED, intent, **fields))
    outcome = DISPUTE_OUTCOMES.get(str(dispute.get("status")))
    if outcome is None:
        return source.ours(intent, ignored=f"a dispute closed as {dispute.get('status')}")
    event = source.gateway_event(K.DISPUTE_CLOSED, intent, outcome=outcome, **fields)
    return source.ours(intent, event)


def _account_updated(source: _Source) -> WebhookTranslation:
    account = source.object
    if source.at is None:
        raise ValueError("an account event without its creation time")
    state = SellerAccount(
        account_id=str(account["id"]),
        charges_enabled=bool(account.get("charges_enabled")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        currently_due=currently_due(account),
    )
    tenant_id = source.metadata.get("tenant_id")
    update = AccountUpdate(
        gateway=GATEWAY,
        account=state,
        as_of=source.at,
        event_id=source.id,
        tenant_id=tenant_id,
        seller_id=source.metadata.get("seller_id"),
    )
    return WebhookTranslation(seller_account=update, tenant_id=tenant_id)


_TRANSLATIONS: dict[str, Callable[[_Source], WebhookTranslation]] = {
    "payment_intent.created": _intent_created,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "payment_intent.canceled": _intent_canceled,
    "charge.succeeded": _charge_succeeded,
    "charge.captured": _charge_succeeded,
    "charge.failed": _charge_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": lambda source: _dispute(source, closed=False),
    "charge.dispute.closed": lambda source: _dispute(source, closed=True),
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
    "charge.refund.updated": _refund,
    "account.updated": _account_updated,
}
HANDLED_TYPES = frozenset(_TRANSLATIONS)
