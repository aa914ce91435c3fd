"""PaymentIntent and Refund requests shared by the gateway and by Connect's destination charges.

Tokens are Stripe PaymentMethod ids (``pm_...`` from Stripe.js, or test ids such as
``pm_card_visa``); the gateway never sees card data. Every PaymentIntent is created and
confirmed in one call. Stripe then wants a ``return_url`` unless the PaymentIntent takes no
payment method that redirects (``automatic_payment_methods[allow_redirects]=never``, sent when
``redirect_free``): cards still work, 3-D Secure included, finished in the customer's browser
with the client secret. localstripe refuses that parameter, so tests against it turn it off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec
import stripe
from stripe.params import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    RefundCreateParams,
)

from adapters.payments.stripe_calls import StripeCalls, gateway_error, stripe_idempotency_key
from adapters.payments.stripe_mapping import decline_code, to_payment, to_refund
from commerce_core.payments.ports.gateway import (
    Destination,
    GatewayPayment,
    GatewayRefund,
    GatewayRequestError,
    GatewayStatus,
)
from commerce_core.shared.money import Money

CaptureMethod = Literal["automatic", "manual"]

# The charge's balance transaction holds Stripe's fee.
EXPAND = ["latest_charge.balance_transaction"]
# A non-final capture of a PaymentIntent that cannot be captured several times.
MULTICAPTURE_UNAVAILABLE = "multicapture_unavailable"
# Stripe takes only these refund reasons; any other goes into the refund's metadata.
STRIPE_REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}


def with_key(idempotency_key: str) -> stripe.RequestOptions:
    return {"idempotency_key": stripe_idempotency_key(idempotency_key)}


async def create_payment(
    calls: StripeCalls,
    amount: Money,
    token: str,
    idempotency_key: str,
    metadata: Mapping[str, str] | None,
    capture_method: CaptureMethod,
    destination: Destination | None = None,
) -> GatewayPayment:
    """Creates and confirms a PaymentIntent; a decline is a failed ``GatewayPayment``.

    ``destination`` makes it a Connect destination charge: the seller's account and the
    application fee the platform keeps.
    """
    params: PaymentIntentCreateParams = {
        "amount": amount.amount,
        "currency": amount.currency.lower(),
        "payment_method": token,
        "capture_method": capture_method,
        "confirm": True,
        "expand": EXPAND,
    }
    if calls.redirect_free:
        params["automatic_payment_methods"] = {"enabled": True, "allow_redirects": "never"}
    if capture_method == "manual":  # several captures later, where the card and account allow
        params["payment_method_options"] = {"card": {"request_multicapture": "if_available"}}
    if metadata:
        params["metadata"] = dict(metadata)
    if destination is not None:
        if destination.application_fee.currency != amount.currency or not (
            0 <= destination.application_fee.amount <= amount.amount
        ):
            raise GatewayRequestError(
                "parameter_invalid", f"fee {destination.application_fee} for {amount}"
            )
        params["transfer_data"] = {"destination": destination.account_id}
        params["application_fee_amount"] = destination.application_fee.amount
    intents = calls.client.v1.payment_intents

    async def create() -> GatewayPayment:
        intent = await intents.create_async(params, with_key(idempotency_key))
        return to_payment(intent.to_dict())

    async def declined(error: stripe.CardError) -> GatewayPayment:
        return await payment_of_decline(calls, error)

    return await calls.send(create, on_decline=declined)


async def payment_of_decline(calls: StripeCalls, error: stripe.CardError) -> GatewayPayment:
    """The failed PaymentIntent behind a card error.

    Stripe puts the PaymentIntent in the error; localstripe names only the charge, whose
    PaymentIntent is then read.
    """
    body: Mapping[str, Any] = {}
    if isinstance(error.json_body, Mapping) and isinstance(error.json_body.get("error"), Mapping):
        body = error.json_body["error"]
    code = decline_code(body)
    intent = body.get("payment_intent")
    if isinstance(intent, Mapping):
        return to_payment(intent, decline=code)
    charge_id = body.get("charge")
    if isinstance(charge_id, str):
        charges = calls.client.v1.charges
        charge = await calls.send(lambda: charges.retrieve_async(charge_id))
        if isinstance(charge.payment_intent, str):
            payment = await retrieve_payment(calls, charge.payment_intent)
            if payment.status != GatewayStatus.FAILED:
                return payment
            return msgspec.structs.replace(payment, decline_code=code or payment.decline_code)
    raise gateway_error(error) from error


async def capture_payment(
    calls: StripeCalls,
    gateway_payment_id: str,
    amount: Money | None,
    idempotency_key: str,
    application_fee: Money | None = None,
    final: bool = True,
) -> GatewayPayment:
    """Captures ``amount`` (default: all that is left); a final capture releases the rest.

    A non-final capture sends ``final_capture=false``, which Stripe takes only from a
    PaymentIntent with multicapture available (``request_multicapture`` when authorizing,
    on an account and card that have it); its refusal is ``multicapture_unavailable``. A
    final one sends nothing: ``final_capture`` defaults to true (and localstripe refuses
    the parameter).
    """
    params: PaymentIntentCaptureParams = {"expand": EXPAND}
    if amount is not None:
        params["amount_to_capture"] = amount.amount
    if application_fee is not None:  # else Stripe keeps the one set at creation
        params["application_fee_amount"] = application_fee.amount
    if not final:
        params["final_capture"] = False
    intents = calls.client.v1.payment_intents

    async def capture() -> GatewayPayment:
        try:
            intent = await intents.capture_async(
                gateway_payment_id, params, with_key(idempotency_key)
            )
        except stripe.InvalidRequestError as refusal:
            if not final and multicapture_refused(refusal):
                raise GatewayRequestError(
                    MULTICAPTURE_UNAVAILABLE, refusal.user_message or str(refusal)
                ) from refusal
            raise
        return to_payment(intent.to_dict())

    return await calls.send(capture)


def multicapture_refused(refusal: stripe.InvalidRequestError) -> bool:
    """Whether Stripe refused a capture's ``final_capture=false``: the PaymentIntent cannot
    be captured again (multicapture unavailable for its card, or on the account)."""
    message = str(refusal.user_message or refusal).lower()
    return refusal.param == "final_capture" or any(
        word in message for word in ("multicapture", "final_capture")
    )


async def cancel_payment(
    calls: StripeCalls, gateway_payment_id: str, idempotency_key: str
) -> GatewayPayment:
    params: PaymentIntentCancelParams = {"expand": EXPAND}
    intents = calls.client.v1.payment_intents

    async def cancel() -> GatewayPayment:
        intent = await intents.cancel_async(gateway_payment_id, params, with_key(idempotency_key))
        return to_payment(intent.to_dict())

    return await calls.send(cancel)


async def retrieve_payment(calls: StripeCalls, gateway_payment_id: str) -> GatewayPayment:
    params: PaymentIntentRetrieveParams = {"expand": EXPAND}
    intents = calls.client.v1.payment_intents

    async def retrieve() -> GatewayPayment:
        return to_payment((await intents.retrieve_async(gateway_payment_id, params)).to_dict())

    return await calls.send(retrieve)


async def refund_payment(
    calls: StripeCalls,
    gateway_payment_id: str,
    amount: Money,
    idempotency_key: str,
    reason: str | None,
    reverse_transfer: bool = False,
    metadata: Mapping[str, str] | None = None,
) -> GatewayRefund:
    """Refunds part or all of a captured PaymentIntent.

    ``reverse_transfer`` (destination charges) takes the money back from the seller and
    refunds the platform's application fee in proportion.
    """
    params: RefundCreateParams = {"payment_intent": gateway_payment_id, "amount": amount.amount}
    notes = dict(metadata or {})
    if reason in STRIPE_REFUND_REASONS:
        params["reason"] = reason
    elif reason:
        notes["reason"] = reason
    if notes:
        params["metadata"] = notes
    if reverse_transfer:
        params["reverse_transfer"] = True
        params["refund_application_fee"] = True
    refunds = calls.client.v1.refunds

    async def refund() -> GatewayRefund:
        created = await refunds.create_async(params, with_key(idempotency_key))
        return to_refund(created.to_dict(), gateway_payment_id)

    return await calls.send(refund)
