"""Sending requests through ``stripe.StripeClient``: retries, idempotency keys, error mapping.

- Every creating call (a POST) carries an idempotency key derived from ours, the same on
  every retry, so Stripe acts once however often the request is sent.
- No answer (a network error or timeout), 5xx, 429 and 409 (a lock, or an idempotent request
  still running) are retried with exponential backoff; Stripe's ``Stripe-Should-Retry`` header
  overrides that when present. When the attempts run out (or Stripe says not to retry) they
  are the port's ``GatewayUnavailableError``: the outcome is unknown and the payment stays
  pending until a retry with the same key, or ``retrieve``, settles it. The SDK's own retries
  are off because its sleep cannot be replaced in tests.
- Any other refusal is the port's ``GatewayRequestError`` with Stripe's error code (404
  without a code is ``resource_missing``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import stripe

from commerce_core.payments.ports.gateway import GatewayRequestError, GatewayUnavailableError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
OnDecline = Callable[[stripe.CardError], Awaitable[T]]

DEFAULT_MAX_RETRIES = 2
FIRST_DELAY = 0.25  # seconds; doubled on each retry
MAX_DELAY = 2.0
DEFAULT_TIMEOUT = 30.0  # seconds for one HTTP request
RETRIED_STATUSES = {409, 429}
MAX_KEY_LENGTH = 255  # Stripe refuses longer idempotency keys
# Stripe's codes that say the same as one of the port's (see GatewayRequestError).
CODES = {
    "charge_already_refunded": "amount_too_large",
    "charge_already_captured": "payment_intent_unexpected_state",
}
CODES_BY_STATUS = {
    401: "authentication_required",
    403: "permission_denied",
    404: "resource_missing",
}


def stripe_idempotency_key(ours: str) -> str:
    """Our key as Stripe takes it: itself when it fits, else a digest of it."""
    if 0 < len(ours) <= MAX_KEY_LENGTH and ours.isascii() and ours.isprintable():
        return ours
    return "sha256-" + hashlib.sha256(ours.encode()).hexdigest()


def backoff(retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (0, 1, ...)."""
    return float(min(FIRST_DELAY * 2**retry, MAX_DELAY))


def no_answer(error: stripe.StripeError) -> bool:
    """Whether Stripe failed to answer (the request may or may not have acted)."""
    if isinstance(error, stripe.APIConnectionError):
        return True
    status = error.http_status
    if status is None:
        return isinstance(error, stripe.APIError)  # an answer that could not be read
    return status >= 500 or status in RETRIED_STATUSES


def worth_retrying(error: stripe.StripeError) -> bool:
    """Whether the same request may succeed later; Stripe may say so in a header."""
    should_retry = (error.headers or {}).get("stripe-should-retry")
    if should_retry is not None:
        return should_retry.lower() == "true"
    return no_answer(error)


def gateway_error(error: stripe.StripeError) -> GatewayUnavailableError | GatewayRequestError:
    """Stripe's failure as the port's error: no answer, or a refusal with Stripe's code."""
    if no_answer(error):
        return GatewayUnavailableError(f"Stripe gave no usable answer: {error}")
    if isinstance(error, stripe.IdempotencyError):
        return GatewayRequestError("idempotency_key_reused", error.user_message)
    status = error.http_status or 0
    code = error.code or CODES_BY_STATUS.get(status) or "invalid_request"
    return GatewayRequestError(CODES.get(code, code), error.user_message or str(error))


class StripeCalls:
    """A ``StripeClient`` and the policy every adapter call goes through."""

    def __init__(
        self,
        secret_key: str,
        api_base: str | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        sleep: Sleep = asyncio.sleep,
        http_client: stripe.HTTPClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        redirect_free: bool = True,
    ) -> None:
        self._http = http_client or stripe.HTTPXClient(timeout=timeout)
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=self._http,
        )
        self.max_retries = max_retries
        self.redirect_free = redirect_free  # see stripe_intents
        self._sleep = sleep

    async def send(
        self, request: Callable[[], Awaitable[T]], on_decline: OnDecline[T] | None = None
    ) -> T:
        """Sends ``request``, again while Stripe's answer is transient.

        A card decline goes to ``on_decline`` when given (a decline is a result); otherwise it
        is a ``GatewayRequestError`` like any other refusal.
        """
        for retry in range(self.max_retries + 1):
            try:
                return await request()
            except stripe.CardError as decline:
                if on_decline is None:
                    raise gateway_error(decline) from decline
                return await on_decline(decline)
            except stripe.StripeError as error:
                if retry == self.max_retries or not worth_retrying(error):
                    raise gateway_error(error) from error
            await self._sleep(backoff(retry))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def close(self) -> None:
        """Closes the HTTP client's connections."""
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK
