"""A payment gateway in memory that behaves like Stripe where it matters, for tests.

Its behaviour (tokens, declines, 3-D Secure, fees, marketplace destinations, refunds,
idempotency, several captures per authorization) is ``adapters.payments.fake_gateway``'s,
shared with the PostgreSQL version the demo mode uses
(``adapters.postgres.fake_gateway.PostgresFakeGateway``); here the state lives in dicts
and dies with the process. ``fail_next_call`` and ``lose_next_response`` simulate an
outage and a timeout after the fact.
"""

from __future__ import annotations

from adapters.payments.fake_gateway import (
    Answer,
    FakeGatewayBase,
    FakeIntent,
    FakeRefund,
    Request,
    apply,
    authenticate,
    fake_id,
    id_needed,
    payment_id_of,
    replay,
)
from commerce_core.payments.ports.gateway import (
    Destination,
    GatewayPayment,
    GatewayRefund,
    GatewayRequestError,
)
from commerce_core.shared.money import Money


class FakePaymentGateway(FakeGatewayBase):
    """The ``PaymentGateway`` port in memory (see ``adapters.payments.fake_gateway``)."""

    def __init__(self, id_tag: str = "") -> None:
        # The memory store's ids restart with the process: a tag per run keeps a restarted
        # fake from handing out ids that stored payments already use.
        super().__init__()
        self._id_tag = id_tag
        self._intents: dict[str, FakeIntent] = {}
        self._refunds: dict[str, FakeRefund] = {}
        self._answers: dict[str, tuple[Request, Answer]] = {}

    # Test controls

    @property
    def payment_count(self) -> int:
        """How many payments were created: a retried call must not add one."""
        return len(self._intents)

    def destination_of(self, gateway_payment_id: str) -> Destination | None:
        """The seller account and fee a marketplace payment was sent with."""
        return self._known(gateway_payment_id).destination

    def reversed_from_seller(self, gateway_payment_id: str) -> Money | None:
        """How much of a marketplace payment's refunds was taken back from the seller."""
        return self._known(gateway_payment_id).reversed_from_seller

    def refunds_made(self) -> list[GatewayRefund]:
        """Every refund made, oldest first."""
        return [refund.view() for refund in self._refunds.values()]

    def refund_metadata(self, gateway_refund_id: str) -> dict[str, str]:
        """The metadata a refund was sent with."""
        return dict(self._refunds[gateway_refund_id].metadata)

    def complete_authentication(
        self, gateway_payment_id: str, success: bool = True
    ) -> GatewayPayment:
        """The customer finished 3-D Secure: authorized (or captured, for a charge) or failed."""
        intent = authenticate(self._known(gateway_payment_id), success)
        self._intents[intent.id] = intent
        return intent.view()

    # Storage (no await between reading and writing: each call is atomic)

    async def _once(self, key: str, request: Request) -> GatewayPayment | GatewayRefund:
        known = self._answers.get(key)
        if known is not None:
            answer = replay(request, *known)
            assert not isinstance(answer, GatewayRequestError)  # replay raises those
            return answer
        payment_id = payment_id_of(request)
        intent = None if payment_id is None else self._intents.get(payment_id)
        try:
            change = apply(request, intent, self._new_id(request))
        except GatewayRequestError as refusal:
            self._answers[key] = (request, refusal)
            raise
        self._intents[change.intent.id] = change.intent
        if change.refund is not None:
            self._refunds[change.refund.id] = change.refund
        self._answers[key] = (request, change.answer)
        return change.answer

    async def _load(self, gateway_payment_id: str) -> FakeIntent | None:
        return self._intents.get(gateway_payment_id)

    def _new_id(self, request: Request) -> str | None:
        kind = id_needed(request)
        if kind is None:
            return None
        count = len(self._intents) if kind == "payment" else len(self._refunds)
        return fake_id(kind, count + 1, self._id_tag)

    def _known(self, gateway_payment_id: str) -> FakeIntent:
        intent = self._intents.get(gateway_payment_id)
        if intent is None:
            raise GatewayRequestError("resource_missing", f"no payment {gateway_payment_id}")
        return intent
