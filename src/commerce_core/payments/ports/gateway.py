"""The payment gateway port: authorize, capture, void and refund through a provider.

Contract (``tests/contract/test_payment_gateway.py`` holds every adapter to it):

- **Declines are results, not exceptions.** A declined card gives a
  ``GatewayPayment`` with ``status=failed`` and a ``decline_code``
  (``card_declined``, ``insufficient_funds``, ...); a decline is a normal
  outcome the caller records on the ``Payment``. Exceptions mean the request
  itself was wrong (``GatewayRequestError``: unknown payment, capture over the
  authorized amount, refund over what is left, wrong state, reused key) or the
  gateway could not be reached (``GatewayUnavailableError``: outcome unknown,
  retry with the same idempotency key).
- **Every call that moves money takes an idempotency key.** The same key with
  the same request returns the first answer (the same result, or the same
  ``GatewayRequestError``) and moves money once; the same key with a different
  request raises ``GatewayRequestError("idempotency_key_reused")``.
- **3-D Secure**: a card that needs authentication gives
  ``status=requires_action`` and a ``client_secret`` for the customer's
  browser; the outcome arrives later (a webhook, or ``retrieve``).
- **Captures**: several per authorization (multicapture), together at most the
  authorized amount. A capture with ``final=True`` releases what is left (as
  Stripe's ``final_capture``); one with ``final=False`` leaves the rest capturable.
  ``charge`` authorizes and captures at once.
- ``gateway_fee`` is the gateway's total fee on the payment so far, when the
  gateway reports it (``None`` otherwise).
- Amounts are ``Money``; the gateway never sees card data, only tokens.
- **Marketplaces**: ``destination`` sends a payment to a seller's connected account, less
  the application fee the platform keeps; refunding it with ``reverse_transfer`` takes the
  money back from the seller and returns the fee in proportion.
- ``metadata`` travels with the payment or refund and comes back in the gateway's events,
  which is how a webhook finds our payment or refund.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

import msgspec

from commerce_core.shared.money import Money


class GatewayStatus(StrEnum):
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    VOIDED = "voided"
    FAILED = "failed"


class GatewayRefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class GatewayPayment(msgspec.Struct, frozen=True, kw_only=True):
    """A payment as the gateway sees it after a call."""

    gateway_payment_id: str
    status: GatewayStatus
    amount: Money
    captured: Money
    refunded: Money
    client_secret: str | None = None
    decline_code: str | None = None
    gateway_fee: Money | None = None


class GatewayRefund(msgspec.Struct, frozen=True, kw_only=True):
    gateway_refund_id: str
    gateway_payment_id: str
    status: GatewayRefundStatus
    amount: Money
    failure_code: str | None = None


class Destination(msgspec.Struct, frozen=True, kw_only=True):
    """Where a marketplace payment goes: a seller's connected account, less the platform's fee."""

    account_id: str
    application_fee: Money


class GatewayError(Exception):
    """Base of the errors a gateway adapter raises."""


class GatewayRequestError(GatewayError):
    """The gateway refused the request itself; ``code`` names why (Stripe's codes).

    Codes used across adapters: ``resource_missing`` (unknown payment or token),
    ``amount_too_large`` (capture over authorized, refund over what is left),
    ``payment_intent_unexpected_state`` (e.g. capture after void, void after
    capture), ``idempotency_key_reused``.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code


class GatewayUnavailableError(GatewayError):
    """No answer: the call may or may not have happened. Retry with the same key."""


class PaymentGateway(Protocol):
    """A payment provider (Stripe, a fake). All calls are async and may raise ``GatewayError``."""

    async def authorize(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        """Holds ``amount`` on the customer's payment method, for a later capture."""
        ...

    async def charge(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        """Authorizes and captures ``amount`` in one step."""
        ...

    async def capture(
        self,
        gateway_payment_id: str,
        amount: Money | None,
        idempotency_key: str,
        application_fee: Money | None = None,
        final: bool = True,
    ) -> GatewayPayment:
        """Captures ``amount`` (default: all that is left) of an authorization; with
        ``final`` the rest is released, without it the rest stays capturable.

        ``application_fee`` (destination payments only) replaces the fee set when the
        payment was authorized; without it the gateway keeps that fee, capped at what
        is captured."""
        ...

    async def void(self, gateway_payment_id: str, idempotency_key: str) -> GatewayPayment:
        """Cancels an authorization (or a payment awaiting authentication)."""
        ...

    async def refund(
        self,
        gateway_payment_id: str,
        amount: Money,
        idempotency_key: str,
        reason: str | None = None,
        reverse_transfer: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayRefund:
        """Sends ``amount`` of a captured payment back; never more than is left."""
        ...

    async def retrieve(self, gateway_payment_id: str) -> GatewayPayment:
        """The payment's current state at the gateway."""
        ...
