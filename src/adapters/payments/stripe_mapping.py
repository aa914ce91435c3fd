"""Stripe objects (as plain dicts) to the port's ``GatewayPayment`` and ``GatewayRefund``.

Stripe's PaymentIntent statuses map to ours:

- ``requires_action`` -> ``requires_action`` (3-D Secure; the client secret goes with it);
- ``requires_capture`` -> ``authorized``, or ``captured`` once a non-final capture took part
  of it (multicapture: ``amount_received`` above zero, the rest still capturable), as our
  ``Payment`` is captured from its first capture on;
- ``succeeded`` -> ``captured``; ``canceled`` -> ``voided``;
- ``requires_payment_method`` -> ``failed``: we always confirm when creating, so a PaymentIntent
  back at this status is one whose attempt was declined or failed authentication;
- ``requires_confirmation`` -> ``failed`` (never confirmed: no money moved);
- ``processing`` has no outcome yet: ``GatewayUnavailableError``, so the caller asks again later.

Amounts: a (final) partial capture makes Stripe refund the uncaptured rest, and the charge's
``amount_refunded`` counts that release; ``refunded`` here is only what was refunded after
capture, so the release is taken off. Before the final capture of a multicapture nothing is
released yet: all of ``amount_refunded`` was refunded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commerce_core.payments.ports.gateway import (
    GatewayPayment,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayStatus,
    GatewayUnavailableError,
)
from commerce_core.shared.money import Money

StripeObject = Mapping[str, Any]

STATUSES: dict[str, GatewayStatus] = {
    "requires_action": GatewayStatus.REQUIRES_ACTION,
    "requires_capture": GatewayStatus.AUTHORIZED,
    "succeeded": GatewayStatus.CAPTURED,
    "canceled": GatewayStatus.VOIDED,
    "requires_payment_method": GatewayStatus.FAILED,
    "requires_confirmation": GatewayStatus.FAILED,
}
REFUND_STATUSES: dict[str, GatewayRefundStatus] = {
    "succeeded": GatewayRefundStatus.SUCCEEDED,
    "failed": GatewayRefundStatus.FAILED,
    "canceled": GatewayRefundStatus.FAILED,
}
# Stripe's code for a failed 3-D Secure, renamed to the one the fake gateway uses.
AUTHENTICATION_FAILURE_CODES = {"payment_intent_authentication_failure": "authentication_failed"}


def decline_code(error: StripeObject | None) -> str | None:
    """The most specific reason in a Stripe error (``last_payment_error`` or a card error).

    Stripe puts the general reason in ``code`` (``card_declined``, ``expired_card``) and the
    issuer's in ``decline_code`` (``insufficient_funds``); ``generic_decline`` says nothing
    more than ``card_declined``.
    """
    if not error:
        return None
    specific = error.get("decline_code")
    if specific and specific != "generic_decline":
        return str(specific)
    code = str(error.get("code") or "card_declined")
    return AUTHENTICATION_FAILURE_CODES.get(code, code)


def to_payment(intent: StripeObject, decline: str | None = None) -> GatewayPayment:
    """A PaymentIntent (with ``latest_charge.balance_transaction`` expanded) as the port sees it."""
    stripe_status = str(intent["status"])
    status = STATUSES.get(stripe_status)
    if status is None:
        raise GatewayUnavailableError(f"payment {intent['id']} is still {stripe_status}")
    currency = str(intent["currency"]).upper()
    charge = _charge(intent)
    captured = 0
    if status == GatewayStatus.CAPTURED:
        captured = _captured(intent, charge)
    elif status == GatewayStatus.AUTHORIZED:
        # multicapture: what non-final captures took (localstripe reports no amount_received)
        captured = int(intent.get("amount_received") or 0)
        if captured:
            status = GatewayStatus.CAPTURED
    refunded = 0
    if captured:
        released = int(charge.get("amount", 0)) - captured if stripe_status == "succeeded" else 0
        refunded = max(int(charge.get("amount_refunded", 0)) - released, 0)
    if status == GatewayStatus.FAILED:
        decline = decline or decline_code(intent.get("last_payment_error")) or "card_declined"
    needs_action = status == GatewayStatus.REQUIRES_ACTION
    return GatewayPayment(
        gateway_payment_id=str(intent["id"]),
        status=status,
        amount=Money(int(intent["amount"]), currency),
        captured=Money(captured, currency),
        refunded=Money(refunded, currency),
        client_secret=intent.get("client_secret") if needs_action else None,
        decline_code=decline if status == GatewayStatus.FAILED else None,
        gateway_fee=_fee(charge, currency),
    )


def to_refund(refund: StripeObject, gateway_payment_id: str) -> GatewayRefund:
    """A Stripe Refund; ``pending`` and ``requires_action`` stay pending until a webhook says."""
    return GatewayRefund(
        gateway_refund_id=str(refund["id"]),
        gateway_payment_id=str(refund.get("payment_intent") or gateway_payment_id),
        status=REFUND_STATUSES.get(str(refund.get("status")), GatewayRefundStatus.PENDING),
        amount=Money(int(refund["amount"]), str(refund["currency"]).upper()),
        failure_code=refund.get("failure_reason"),
    )


def _charge(intent: StripeObject) -> StripeObject:
    charge = intent.get("latest_charge")
    # Not expanded (a bare id) or no charge yet: nothing more to read.
    return charge if isinstance(charge, Mapping) else {}


def _captured(intent: StripeObject, charge: StripeObject) -> int:
    if "amount_received" in intent:
        return int(intent["amount_received"])
    if "amount_captured" in charge:
        return int(charge["amount_captured"])
    # localstripe reports neither; it records the released rest as a refund with no
    # PaymentIntent, where ours always name theirs.
    refunds = charge.get("refunds") or {}
    released = sum(
        int(refund["amount"])
        for refund in refunds.get("data", [])
        if refund.get("payment_intent") is None
    )
    return int(charge.get("amount", 0)) - released


def _fee(charge: StripeObject, currency: str) -> Money | None:
    """Stripe's fee, from the charge's balance transaction once there is one.

    The fee is in the account's settlement currency; in another currency than the
    payment's it cannot be set against the payment, so it is not reported.
    """
    transaction = charge.get("balance_transaction")
    if not isinstance(transaction, Mapping) or transaction.get("fee") is None:
        return None
    if str(transaction.get("currency", "")).upper() != currency:
        return None
    return Money(int(transaction["fee"]), currency)
