"""How the test gateway behaves, whatever keeps its state (memory, or PostgreSQL).

The test gateway plays Stripe for tests and the demo mode. Its behaviour lives here, as
pure functions over plain values; ``adapters.memory.payment_gateway.FakePaymentGateway``
and ``adapters.postgres.fake_gateway.PostgresFakeGateway`` differ only in where they keep
payments, refunds and the answers given per idempotency key.

Tokens: ``tok_visa`` succeeds; ``tok_declined`` declines with ``card_declined``;
``tok_insufficient_funds`` declines with ``insufficient_funds``; ``tok_3ds`` needs 3-D
Secure (``requires_action`` and a client secret) until the test control
``complete_authentication`` says how the customer's authentication went, as the gateway's
webhook would. Any other token is unknown (``resource_missing``).

Like a real gateway it honours idempotency keys (the same request answers as the first
time, a refusal included; another request with the key is ``idempotency_key_reused``),
refuses captures over what is left of the authorization and refunds over what is left of
the captures, and charges a fee (2.9% + 30 minor units, on the captured amount).

Captures (multicapture, as Stripe's ``final_capture``): several per authorization,
together at most the authorized amount. The payment is ``captured`` from the first one
on, as ``Payment`` is; a ``final`` capture releases the rest (a later capture is
``payment_intent_unexpected_state``), a non-final one leaves it capturable. A captured
payment can be refunded, not voided. ``application_fee`` on a capture is the platform's
fee on everything captured so far; without it the fee asked last (at authorization, or
on an earlier capture) stays, capped at what is captured.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Literal, NamedTuple, cast

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

IdKind = Literal["payment", "refund"]
ID_PREFIXES: dict[IdKind, str] = {"payment": "pi_fake_", "refund": "re_fake_"}


def fake_id(kind: IdKind, number: int, tag: str = "") -> str:
    """``pi_fake_000001`` (or ``pi_fake_<tag>_000001``); refunds ``re_fake_...``."""
    return f"{ID_PREFIXES[kind]}{tag + '_' if tag else ''}{number:06d}"


# Requests: what a call asked, which is also what its idempotency key is held to


class Open(msgspec.Struct, frozen=True, kw_only=True, tag="open"):
    """An authorization, or a charge (``at_once``: authorized and captured together)."""

    amount: Money
    token: str
    metadata: dict[str, str]
    destination: Destination | None
    at_once: bool


class Capture(msgspec.Struct, frozen=True, kw_only=True, tag="capture"):
    payment_id: str
    amount: Money | None
    application_fee: Money | None
    final: bool


class Void(msgspec.Struct, frozen=True, kw_only=True, tag="void"):
    payment_id: str


class Refund(msgspec.Struct, frozen=True, kw_only=True, tag="refund"):
    payment_id: str
    amount: Money
    reason: str | None
    reverse_transfer: bool
    metadata: dict[str, str]


Request = Open | Capture | Void | Refund


def payment_id_of(request: Request) -> str | None:
    """The payment a request acts on (None: it opens one)."""
    return None if isinstance(request, Open) else request.payment_id


def id_needed(request: Request) -> IdKind | None:
    """The kind of new id a request takes if it succeeds."""
    if isinstance(request, Open):
        return "payment"
    return "refund" if isinstance(request, Refund) else None


# State


class FakeIntent(msgspec.Struct, frozen=True, kw_only=True):
    """A payment at the test gateway (a PaymentIntent, at Stripe).

    ``released``: a final capture (or a charge) left nothing more to capture;
    ``fee_asked``: a marketplace payment's application fee as last asked, before it is
    capped at what is captured (``destination.application_fee`` is the capped one).
    """

    id: str
    amount: Money
    capture_at_once: bool
    status: GatewayStatus
    captured: Money
    refunded: Money
    released: bool = False
    client_secret: str | None = None
    decline_code: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    destination: Destination | None = None
    fee_asked: Money | None = None
    reversed_from_seller: Money | None = None

    def view(self) -> GatewayPayment:
        """The payment as the port shows it, with the gateway's fee on what is captured."""
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


class FakeRefund(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    payment_id: str
    amount: Money
    reason: str | None = None
    metadata: dict[str, str] = msgspec.field(default_factory=dict)

    def view(self) -> GatewayRefund:
        return GatewayRefund(
            gateway_refund_id=self.id,
            gateway_payment_id=self.payment_id,
            status=GatewayRefundStatus.SUCCEEDED,
            amount=self.amount,
        )


Answer = GatewayPayment | GatewayRefund | GatewayRequestError
"""What a call answered: replayed for a repeat of its idempotency key."""


class Change(NamedTuple):
    """What a request did: the payment's new state and the refund it made, if any."""

    intent: FakeIntent
    refund: FakeRefund | None
    answer: GatewayPayment | GatewayRefund


# Behaviour (pure: a refusal raises GatewayRequestError before anything changes)


def apply(request: Request, intent: FakeIntent | None, new_id: str | None) -> Change:
    """Runs ``request`` on the payment it names (``intent``, None if unknown or opening one);
    ``new_id`` is the id a new payment or refund takes (see ``id_needed``)."""
    if isinstance(request, Open):
        assert new_id is not None
        opened = open_intent(request, new_id)
        return Change(opened, None, opened.view())
    if intent is None:
        raise GatewayRequestError("resource_missing", f"no payment {request.payment_id}")
    if isinstance(request, Capture):
        after = capture(intent, request)
        return Change(after, None, after.view())
    if isinstance(request, Void):
        after = void(intent)
        return Change(after, None, after.view())
    assert new_id is not None
    after, refund = make_refund(intent, request, new_id)
    return Change(after, refund, refund.view())


def open_intent(request: Open, intent_id: str) -> FakeIntent:
    amount, destination = request.amount, request.destination
    if destination is not None and (
        destination.application_fee.currency != amount.currency
        or not 0 <= destination.application_fee.amount <= amount.amount
    ):
        raise GatewayRequestError("parameter_invalid", "application fee out of range")
    if request.token not in TOKEN_DECLINES:
        raise GatewayRequestError("resource_missing", f"no such token {request.token}")
    if amount.amount <= 0:
        raise GatewayRequestError("amount_too_small")
    zero = Money.zero(amount.currency)
    intent = FakeIntent(
        id=intent_id,
        amount=amount,
        capture_at_once=request.at_once,
        status=GatewayStatus.AUTHORIZED,
        captured=zero,
        refunded=zero,
        decline_code=TOKEN_DECLINES[request.token],
        metadata=dict(request.metadata),
        destination=destination,
        fee_asked=None if destination is None else destination.application_fee,
    )
    if intent.decline_code is not None:
        return msgspec.structs.replace(intent, status=GatewayStatus.FAILED)
    if request.token == "tok_3ds":
        return msgspec.structs.replace(
            intent, status=GatewayStatus.REQUIRES_ACTION, client_secret=f"{intent_id}_secret_fake"
        )
    return _captured_at_once(intent) if request.at_once else intent


def authenticate(intent: FakeIntent, success: bool) -> FakeIntent:
    """The customer finished 3-D Secure: authorized (or captured, for a charge) or failed."""
    if intent.status != GatewayStatus.REQUIRES_ACTION:
        raise GatewayRequestError("payment_intent_unexpected_state")
    if not success:
        return msgspec.structs.replace(
            intent, status=GatewayStatus.FAILED, decline_code=AUTHENTICATION_FAILED
        )
    if intent.capture_at_once:
        return _captured_at_once(intent)
    return msgspec.structs.replace(intent, status=GatewayStatus.AUTHORIZED)


def capture(intent: FakeIntent, request: Capture) -> FakeIntent:
    """Captures ``request.amount`` (default: all that is left); ``final`` releases the rest."""
    capturable = intent.status == GatewayStatus.AUTHORIZED or (
        intent.status == GatewayStatus.CAPTURED and not intent.released
    )
    if not capturable:
        raise GatewayRequestError("payment_intent_unexpected_state")
    left = intent.amount - intent.captured
    amount = left if request.amount is None else request.amount
    _check_amount(amount, left)
    captured = intent.captured + amount
    fee = request.application_fee
    destination = intent.destination
    if fee is not None and (
        destination is None
        or fee.currency != captured.currency
        or not 0 <= fee.amount <= captured.amount
    ):
        raise GatewayRequestError("parameter_invalid", "application fee out of range")
    fee_asked = intent.fee_asked
    if destination is not None:  # as Stripe: the fee given, else the one asked before, capped
        if fee is not None:
            fee_asked = fee
        elif fee_asked is None:
            fee_asked = destination.application_fee
        destination = msgspec.structs.replace(destination, application_fee=fee_asked.min(captured))
    return msgspec.structs.replace(
        intent,
        status=GatewayStatus.CAPTURED,
        captured=captured,
        released=request.final,
        destination=destination,
        fee_asked=fee_asked,
    )


def void(intent: FakeIntent) -> FakeIntent:
    if intent.status not in (GatewayStatus.AUTHORIZED, GatewayStatus.REQUIRES_ACTION):
        raise GatewayRequestError("payment_intent_unexpected_state")
    return msgspec.structs.replace(intent, status=GatewayStatus.VOIDED)


def make_refund(
    intent: FakeIntent, request: Refund, refund_id: str
) -> tuple[FakeIntent, FakeRefund]:
    if intent.status != GatewayStatus.CAPTURED:
        raise GatewayRequestError("payment_intent_unexpected_state")
    amount = request.amount
    _check_amount(amount, intent.captured - intent.refunded)
    reversed_from_seller = intent.reversed_from_seller
    if request.reverse_transfer and intent.destination is not None:
        reversed_from_seller = (reversed_from_seller or Money.zero(amount.currency)) + amount
    after = msgspec.structs.replace(
        intent, refunded=intent.refunded + amount, reversed_from_seller=reversed_from_seller
    )
    refund = FakeRefund(
        id=refund_id,
        payment_id=intent.id,
        amount=amount,
        reason=request.reason,
        metadata=dict(request.metadata),
    )
    return after, refund


def _captured_at_once(intent: FakeIntent) -> FakeIntent:
    return msgspec.structs.replace(
        intent, status=GatewayStatus.CAPTURED, captured=intent.amount, released=True
    )


def _check_amount(amount: Money, limit: Money) -> None:
    if amount.currency != limit.currency:
        raise GatewayRequestError("parameter_invalid", f"expected {limit.currency}")
    if amount.amount <= 0:
        raise GatewayRequestError("amount_too_small")
    if amount > limit:
        raise GatewayRequestError("amount_too_large", f"{amount} is over {limit}")


def replay(request: Request, first_request: Request, first_answer: Answer) -> Answer:
    """The answer to a repeat of an idempotency key: the first one for the same request."""
    if first_request != request:
        raise GatewayRequestError("idempotency_key_reused")
    if isinstance(first_answer, GatewayRequestError):
        raise GatewayRequestError(first_answer.code, str(first_answer))
    return first_answer


# The port, over any storage


class FakeGatewayBase(ABC):
    """The ``PaymentGateway`` port over ``apply``; subclasses keep the state.

    ``fail_next_call`` and ``lose_next_response`` (per instance) simulate an outage and a
    timeout after the fact.
    """

    name = "fake"

    def __init__(self) -> None:
        self._next_failure: GatewayError | None = None
        self._lose_next_response = False

    # Storage

    @abstractmethod
    async def _once(self, key: str, request: Request) -> GatewayPayment | GatewayRefund:
        """Runs ``request`` with ``apply`` once per ``key``, keeping the new state and the
        answer (a refusal too) together; a repeat of the key answers with ``replay``."""

    @abstractmethod
    async def _load(self, gateway_payment_id: str) -> FakeIntent | None:
        """The payment as kept now, None if unknown."""

    # Test controls

    def fail_next_call(self, error: GatewayError | None = None) -> None:
        """The next call raises ``error`` (default: unavailable) and has no effect."""
        self._next_failure = error or GatewayUnavailableError("fake gateway is down")

    def lose_next_response(self) -> None:
        """The next call takes effect, then raises ``GatewayUnavailableError`` (a timeout)."""
        self._lose_next_response = True

    # The port

    async def authorize(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        request = Open(
            amount=amount,
            token=token,
            metadata=dict(metadata or {}),
            destination=destination,
            at_once=False,
        )
        return cast(GatewayPayment, await self._call(idempotency_key, request))

    async def charge(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        request = Open(
            amount=amount,
            token=token,
            metadata=dict(metadata or {}),
            destination=destination,
            at_once=True,
        )
        return cast(GatewayPayment, await self._call(idempotency_key, request))

    async def capture(
        self,
        gateway_payment_id: str,
        amount: Money | None,
        idempotency_key: str,
        application_fee: Money | None = None,
        final: bool = True,
    ) -> GatewayPayment:
        request = Capture(
            payment_id=gateway_payment_id,
            amount=amount,
            application_fee=application_fee,
            final=final,
        )
        return cast(GatewayPayment, await self._call(idempotency_key, request))

    async def void(self, gateway_payment_id: str, idempotency_key: str) -> GatewayPayment:
        request = Void(payment_id=gateway_payment_id)
        return cast(GatewayPayment, await self._call(idempotency_key, request))

    async def refund(
        self,
        gateway_payment_id: str,
        amount: Money,
        idempotency_key: str,
        reason: str | None = None,
        reverse_transfer: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayRefund:
        request = Refund(
            payment_id=gateway_payment_id,
            amount=amount,
            reason=reason,
            reverse_transfer=reverse_transfer,
            metadata=dict(metadata or {}),
        )
        return cast(GatewayRefund, await self._call(idempotency_key, request))

    async def retrieve(self, gateway_payment_id: str) -> GatewayPayment:
        self._maybe_fail()
        return (await self._intent(gateway_payment_id)).view()

    # Helpers

    async def _call(self, key: str, request: Request) -> GatewayPayment | GatewayRefund:
        self._maybe_fail()
        answer = await self._once(key, request)
        if self._lose_next_response:
            self._lose_next_response = False
            raise GatewayUnavailableError("fake gateway timed out (the call took effect)")
        return answer

    async def _intent(self, gateway_payment_id: str) -> FakeIntent:
        intent = await self._load(gateway_payment_id)
        if intent is None:
            raise GatewayRequestError("resource_missing", f"no payment {gateway_payment_id}")
        return intent

    def _maybe_fail(self) -> None:
        failure, self._next_failure = self._next_failure, None
        if failure is not None:
            raise failure


# Encoding, for storage outside the process


class _StoredAnswer(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    payment: GatewayPayment | None = None
    refund: GatewayRefund | None = None
    refused: str | None = None  # the code
    message: str | None = None


_request_decoder: msgspec.json.Decoder[Request] = msgspec.json.Decoder(Request)
_answer_decoder = msgspec.json.Decoder(_StoredAnswer)
_intent_decoder = msgspec.json.Decoder(FakeIntent)
_refund_decoder = msgspec.json.Decoder(FakeRefund)


def encode(value: Request | FakeIntent | FakeRefund) -> bytes:
    return msgspec.json.encode(value)


def decode_request(data: bytes) -> Request:
    return _request_decoder.decode(data)


def decode_intent(data: bytes) -> FakeIntent:
    return _intent_decoder.decode(data)


def decode_refund(data: bytes) -> FakeRefund:
    return _refund_decoder.decode(data)


def encode_answer(answer: Answer) -> bytes:
    if isinstance(answer, GatewayRequestError):
        stored = _StoredAnswer(refused=answer.code, message=str(answer))
    elif isinstance(answer, GatewayRefund):
        stored = _StoredAnswer(refund=answer)
    else:
        stored = _StoredAnswer(payment=answer)
    return msgspec.json.encode(stored)


def decode_answer(data: bytes) -> Answer:
    stored = _answer_decoder.decode(data)
    if stored.refused is not None:
        return GatewayRequestError(stored.refused, stored.message)
    answer = stored.payment or stored.refund
    assert answer is not None, "a stored answer holds a payment, a refund or a refusal"
    return answer
