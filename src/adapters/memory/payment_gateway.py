"""A payment gateway in memory that behaves like Stripe where it matters, for tests.

Tokens: ``tok_visa`` succeeds; ``tok_declined`` declines with ``card_declined``;
``tok_insufficient_funds`` declines with ``insufficient_funds``; ``tok_3ds``
needs 3-D Secure (``requires_action`` and a client secret) until
``complete_authentication`` says how the customer's authentication went, as the
gateway's webhook would. Any other token is unknown (``resource_missing``).

Like a real gateway it honours idempotency keys, refuses captures over the
authorized amount and refunds over what is left, and charges a fee (2.9% + 30
minor units, on the captured amount). ``fail_next_call`` and
``lose_next_response`` simulate an outage and a timeout after the fact.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TypeVar, cast

import msgspec

from commerce_core.payments.ports.gateway import (
    Destination,
    GatewayError,
    GatewayPayment,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
)
from commerce_core.shared.money import Money

TOKEN_DECLINES: dict[str, str | None] = {
    "tok_visa": None,
    "tok_3ds": None,
    "tok_declined": "card_declined",
    "tok_insufficient_funds": "insufficient_funds",
}
AUTHENTICATION_FAILED = "authentication_failed"
FEE_BASIS_POINTS = 290
FEE_FIXED = 30

R = TypeVar("R", GatewayPayment, GatewayRefund)
_Answer = GatewayPayment | GatewayRefund | GatewayRequestError


@dataclasses.dataclass
class _Intent:
    id: str
    amount: Money
    capture_at_once: bool
    status: GatewayStatus
    captured: Money
    refunded: Money
    client_secret: str | None = None
    decline_code: str | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    destination: Destination | None = None
    reversed_from_seller: Money | None = None

    def view(self) -> GatewayPayment:
        fee = (self.captured.bps(FEE_BASIS_POINTS) + Money(FEE_FIXED, self.amount.currency)).min(
            self.captured
        )
        return GatewayPayment(
            gateway_payment_id=self.id,
            status=self.status,
            amount=self.amount,
            captured=self.captured,
            refunded=self.refunded,
            client_secret=self.client_secret,
            decline_code=self.decline_code,
            gateway_fee=fee,
        )


class FakePaymentGateway:
    """The ``PaymentGateway`` port in memory (see the module docstring for its tokens)."""

    name = "fake"

    def __init__(self, id_tag: str = "") -> None:
        # The demo mode's data outlives the process: a tag per run keeps a restarted
        # fake from handing out ids that stored payments already use.
        self._id_prefix = f"{id_tag}_" if id_tag else ""
        self._intents: dict[str, _Intent] = {}
        self._refunds: dict[str, GatewayRefund] = {}
        self._refund_metadata: dict[str, dict[str, str]] = {}
        self._answers: dict[str, tuple[tuple[object, ...], _Answer]] = {}
        self._next_failure: GatewayError | None = None
        self._lose_next_response = False

    # Test controls

    @property
    def payment_count(self) -> int:
        """How many payments were created: a retried call must not add one."""
        return len(self._intents)

    def destination_of(self, gateway_payment_id: str) -> Destination | None:
        """The seller account and fee a marketplace payment was sent with."""
        return self._intent(gateway_payment_id).destination

    def reversed_from_seller(self, gateway_payment_id: str) -> Money | None:
        """How much of a marketplace payment's refunds was taken back from the seller."""
        return self._intent(gateway_payment_id).reversed_from_seller

    def refunds_made(self) -> list[GatewayRefund]:
        """Every refund made, oldest first."""
        return list(self._refunds.values())

    def refund_metadata(self, gateway_refund_id: str) -> dict[str, str]:
        """The metadata a refund was sent with."""
        return dict(self._refund_metadata[gateway_refund_id])

    def fail_next_call(self, error: GatewayError | None = None) -> None:
        """The next call raises ``error`` (default: unavailable) and has no effect."""
        self._next_failure = error or GatewayUnavailableError("fake gateway is down")

    def lose_next_response(self) -> None:
        """The next call takes effect, then raises ``GatewayUnavailableError`` (a timeout)."""
        self._lose_next_response = True

    def complete_authentication(
        self, gateway_payment_id: str, success: bool = True
    ) -> GatewayPayment:
        """The customer finished 3-D Secure: authorized (or captured, for a charge) or failed."""
        intent = self._intent(gateway_payment_id)
        if intent.status != GatewayStatus.REQUIRES_ACTION:
            raise GatewayRequestError("payment_intent_unexpected_state")
        if not success:
            intent.status, intent.decline_code = GatewayStatus.FAILED, AUTHENTICATION_FAILED
        elif intent.capture_at_once:
            intent.status, intent.captured = GatewayStatus.CAPTURED, intent.amount
        else:
            intent.status = GatewayStatus.AUTHORIZED
        return intent.view()

    # The port

    async def authorize(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        request = ("authorize", amount, token, tuple(sorted((metadata or {}).items())), destination)
        return self._once(
            idempotency_key, request, lambda: self._create(amount, token, metadata, destination)
        )

    async def charge(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        request = ("charge", amount, token, tuple(sorted((metadata or {}).items())), destination)
        return self._once(
            idempotency_key,
            request,
            lambda: self._create(amount, token, metadata, destination, at_once=True),
        )

    async def capture(
        self,
        gateway_payment_id: str,
        amount: Money | None,
        idempotency_key: str,
        application_fee: Money | None = None,
        final: bool = True,
    ) -> GatewayPayment:
        request = ("capture", gateway_payment_id, amount, application_fee, final)
        return self._once(
            idempotency_key,
            request,
            lambda: self._capture(gateway_payment_id, amount, application_fee),
        )

    async def void(self, gateway_payment_id: str, idempotency_key: str) -> GatewayPayment:
        return self._once(
            idempotency_key, ("void", gateway_payment_id), lambda: self._void(gateway_payment_id)
        )

    async def refund(
        self,
        gateway_payment_id: str,
        amount: Money,
        idempotency_key: str,
        reason: str | None = None,
        reverse_transfer: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayRefund:
        notes = tuple(sorted((metadata or {}).items()))
        request = ("refund", gateway_payment_id, amount, reason, reverse_transfer, notes)
        return self._once(
            idempotency_key,
            request,
            lambda: self._refund(gateway_payment_id, amount, reverse_transfer, metadata),
        )

    async def retrieve(self, gateway_payment_id: str) -> GatewayPayment:
        self._maybe_fail()
        return self._intent(gateway_payment_id).view()

    # How calls behave

    def _once(self, key: str, request: tuple[object, ...], act: Callable[[], R]) -> R:
        """Runs ``act`` once per idempotency key; a repeat returns (or raises) the first answer."""
        self._maybe_fail()
        known = self._answers.get(key)
        if known is not None:
            first_request, outcome = known
            if first_request != request:
                raise GatewayRequestError("idempotency_key_reused")
            if isinstance(outcome, GatewayRequestError):
                raise GatewayRequestError(outcome.code, str(outcome))
            return cast(R, outcome)  # the same request, so the same kind of answer
        try:
            answer = act()
        except GatewayRequestError as refusal:
            self._answers[key] = (request, refusal)
            raise
        self._answers[key] = (request, answer)
        if self._lose_next_response:
            self._lose_next_response = False
            raise GatewayUnavailableError("fake gateway timed out (the call took effect)")
        return answer

    def _maybe_fail(self) -> None:
        failure, self._next_failure = self._next_failure, None
        if failure is not None:
            raise failure

    def _intent(self, gateway_payment_id: str) -> _Intent:
        intent = self._intents.get(gateway_payment_id)
        if intent is None:
            raise GatewayRequestError("resource_missing", f"no payment {gateway_payment_id}")
        return intent

    def _create(
        self,
        amount: Money,
        token: str,
        metadata: Mapping[str, str] | None,
        destination: Destination | None,
        at_once: bool = False,
    ) -> GatewayPayment:
        if destination is not None and (
            destination.application_fee.currency != amount.currency
            or not 0 <= destination.application_fee.amount <= amount.amount
        ):
            raise GatewayRequestError("parameter_invalid", "application fee out of range")
        if token not in TOKEN_DECLINES:
            raise GatewayRequestError("resource_missing", f"no such token {token}")
        if amount.amount <= 0:
            raise GatewayRequestError("amount_too_small")
        intent_id = f"pi_fake_{self._id_prefix}{len(self._intents) + 1:06d}"
        decline_code = TOKEN_DECLINES[token]
        intent = _Intent(
            id=intent_id,
            amount=amount,
            capture_at_once=at_once,
            status=GatewayStatus.AUTHORIZED,
            captured=Money.zero(amount.currency),
            refunded=Money.zero(amount.currency),
            decline_code=decline_code,
            metadata=dict(metadata or {}),
            destination=destination,
        )
        if decline_code is not None:
            intent.status = GatewayStatus.FAILED
        elif token == "tok_3ds":
            intent.status = GatewayStatus.REQUIRES_ACTION
            intent.client_secret = f"{intent_id}_secret_fake"
        elif at_once:
            intent.status, intent.captured = GatewayStatus.CAPTURED, amount
        self._intents[intent_id] = intent
        return intent.view()

    def _capture(
        self, gateway_payment_id: str, amount: Money | None, application_fee: Money | None
    ) -> GatewayPayment:
        intent = self._intent(gateway_payment_id)
        if intent.status != GatewayStatus.AUTHORIZED:
            raise GatewayRequestError("payment_intent_unexpected_state")
        amount = intent.amount if amount is None else amount
        self._check_amount(amount, intent.amount)
        destination = intent.destination
        if application_fee is not None and (
            destination is None
            or application_fee.currency != amount.currency
            or not 0 <= application_fee.amount <= amount.amount
        ):
            raise GatewayRequestError("parameter_invalid", "application fee out of range")
        if destination is not None:  # as Stripe: the fee given, else the first one capped
            fee = application_fee or destination.application_fee.min(amount)
            intent.destination = msgspec.structs.replace(destination, application_fee=fee)
        intent.status, intent.captured = GatewayStatus.CAPTURED, amount
        return intent.view()

    def _void(self, gateway_payment_id: str) -> GatewayPayment:
        intent = self._intent(gateway_payment_id)
        if intent.status not in (GatewayStatus.AUTHORIZED, GatewayStatus.REQUIRES_ACTION):
            raise GatewayRequestError("payment_intent_unexpected_state")
        intent.status = GatewayStatus.VOIDED
        return intent.view()

    def _refund(
        self,
        gateway_payment_id: str,
        amount: Money,
        reverse_transfer: bool,
        metadata: Mapping[str, str] | None,
    ) -> GatewayRefund:
        intent = self._intent(gateway_payment_id)
        if intent.status != GatewayStatus.CAPTURED:
            raise GatewayRequestError("payment_intent_unexpected_state")
        self._check_amount(amount, intent.captured - intent.refunded)
        intent.refunded += amount
        if reverse_transfer and intent.destination is not None:
            reversed_before = intent.reversed_from_seller or Money.zero(amount.currency)
            intent.reversed_from_seller = reversed_before + amount
        refund = GatewayRefund(
            gateway_refund_id=f"re_fake_{self._id_prefix}{len(self._refunds) + 1:06d}",
            gateway_payment_id=gateway_payment_id,
            status=GatewayRefundStatus.SUCCEEDED,
            amount=amount,
        )
        self._refunds[refund.gateway_refund_id] = refund
        self._refund_metadata[refund.gateway_refund_id] = dict(metadata or {})
        return refund

    @staticmethod
    def _check_amount(amount: Money, limit: Money) -> None:
        if amount.currency != limit.currency:
            raise GatewayRequestError("parameter_invalid", f"expected {limit.currency}")
        if amount.amount <= 0:
            raise GatewayRequestError("amount_too_small")
        if amount > limit:
            raise GatewayRequestError("amount_too_large", f"{amount} is over {limit}")
