"""The ``PaymentGateway`` port on Stripe PaymentIntents, through the official SDK (async).

- authorize: a PaymentIntent with ``capture_method=manual``, confirmed at once, asking for
  multicapture where available (``payment_method_options[card][request_multicapture]`` =
  ``if_available``); charge: the same with automatic capture. 3-D Secure gives
  ``requires_action`` and the PaymentIntent's client secret; a decline gives a ``failed``
  result with the decline code.
- capture (``amount_to_capture`` for less than all; ``final_capture=false`` for a capture
  that leaves the rest capturable, refused as ``multicapture_unavailable`` where the
  PaymentIntent has no multicapture), void (cancel), refund (``reason`` when it
  is one of Stripe's, else in the refund's metadata), retrieve.
- Retries, idempotency keys and error mapping: ``adapters.payments.stripe_calls``.
- Connect (sellers, destination charges): ``gateway.connect``.

Tokens are Stripe PaymentMethod ids; the fake gateway's ``tok_*`` test tokens are not
translated (Stripe's test equivalents: ``pm_card_visa``, ``pm_card_chargeCustomerFail``,
``pm_card_visa_chargeDeclinedInsufficientFunds``, ``pm_card_threeDSecure2Required``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import stripe as stripe_sdk

from adapters.payments import stripe_intents as intents
from adapters.payments.stripe_calls import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Sleep,
    StripeCalls,
)
from adapters.payments.stripe_connect import StripeConnect
from commerce_core.payments.ports.gateway import Destination, GatewayPayment, GatewayRefund
from commerce_core.shared.money import Money


class StripeGateway:
    """Stripe as a ``PaymentGateway``.

    ``api_base`` points every call at a Stripe-compatible server (``STRIPE_API_BASE``;
    default Stripe's own). ``max_retries`` extra attempts follow a transient failure, waiting
    with ``sleep`` (0.25 s, then doubling up to 2 s). ``http_client`` replaces the SDK's
    httpx client (tests record requests with it); ``timeout`` bounds one HTTP request.
    ``redirect_free`` sends ``automatic_payment_methods[allow_redirects]=never``, which Stripe
    needs to confirm a PaymentIntent without a ``return_url``; localstripe refuses the
    parameter, so turn it off there (``STRIPE_REDIRECT_FREE=false``).
    """

    name = "stripe"

    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        sleep: Sleep = asyncio.sleep,
        http_client: stripe_sdk.HTTPClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        redirect_free: bool = True,
    ) -> None:
        self._calls = StripeCalls(
            secret_key, api_base, max_retries, sleep, http_client, timeout, redirect_free
        )
        self.connect = StripeConnect(self._calls)

    async def authorize(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        """Holds ``amount`` on the card (a PaymentIntent with manual capture)."""
        return await intents.create_payment(
            self._calls, amount, token, idempotency_key, metadata, "manual", destination
        )

    async def charge(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        """Authorizes and captures ``amount`` (automatic capture)."""
        return await intents.create_payment(
            self._calls, amount, token, idempotency_key, metadata, "automatic", destination
        )

    async def capture(
        self,
        gateway_payment_id: str,
        amount: Money | None,
        idempotency_key: str,
        application_fee: Money | None = None,
        final: bool = True,
    ) -> GatewayPayment:
        """Captures ``amount`` (default: all that is left); a ``final`` capture makes Stripe
        release the rest, a non-final one (``final_capture=false``, multicapture) leaves it
        capturable. ``application_fee`` replaces a destination payment's
        ``application_fee_amount``."""
        return await intents.capture_payment(
            self._calls, gateway_payment_id, amount, idempotency_key, application_fee, final
        )

    async def void(self, gateway_payment_id: str, idempotency_key: str) -> GatewayPayment:
        """Cancels the PaymentIntent (authorized, or awaiting 3-D Secure)."""
        return await intents.cancel_payment(self._calls, gateway_payment_id, idempotency_key)

    async def refund(
        self,
        gateway_payment_id: str,
        amount: Money,
        idempotency_key: str,
        reason: str | None = None,
        reverse_transfer: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayRefund:
        """Refunds ``amount`` of a captured PaymentIntent."""
        return await intents.refund_payment(
            self._calls,
            gateway_payment_id,
            amount,
            idempotency_key,
            reason,
            reverse_transfer,
            metadata,
        )

    async def retrieve(self, gateway_payment_id: str) -> GatewayPayment:
        """The PaymentIntent as Stripe has it now."""
        return await intents.retrieve_payment(self._calls, gateway_payment_id)

    async def close(self) -> None:
        """Closes the HTTP connections (call once, at shutdown)."""
        await self._calls.close()
