"""Payment: one attempt to take money for an order through one gateway.

Statuses (the ones the API shows) and how they move; ``ALLOWED_TRANSITIONS`` is
the table, and commands refuse anything else with ``InvalidTransitionError``::

    pending -> authorized -> captured -> partially_refunded -> refunded
    pending -> failed | voided          authorized -> voided
    captured | partially_refunded -> disputed -> (won) captured | partially_refunded
                                              -> (lost) stays disputed, closed

- 3-D Secure: a payment waiting for the customer to authenticate stays
  ``pending`` with ``requires_action = True``; it is not a status of its own
  because the API's status list has none and nothing but the client cares.
  The gateway's client secret is not stored (events are readable by operators);
  the service hands it to the caller straight from the gateway's answer.
- Captures: partial and several, up to the authorized amount. ``captured`` as
  soon as anything is captured.
- Refunds: requested (``pending``), then ``succeeded`` or ``failed`` as the
  gateway answers. A pending refund already counts against what can be refunded,
  so two concurrent requests cannot refund more than was captured; ``refunded``
  and the status count succeeded refunds only. A refund that needs an admin's
  approval is first ``pending_approval`` (no intent, no money held), then
  approved (``pending``, with its intent) or ``rejected`` (ADR 0020).
- Disputes: one per payment. While open, refunds are refused (gateways refuse
  them too). Won: the status goes back to what the amounts say. Lost: the
  disputed amount is ``charged_back`` and the payment is closed.
- Fees and ``net_amount``: see ``commerce_core.payments.fees``.
- Marketplaces: a payment for a seller (``seller_id``) goes to the seller's gateway
  account (``destination_account``), less the platform fee; both are fixed when the
  payment is created.
- Intents (``effects``): every gateway call is decided and recorded first
  (``request_opening``, ``request_capture``, ``request_void``, ``request_refund``:
  ``EffectRequested``), then made with the intent's key, then its outcome recorded
  and the intent closed (``complete``: ``EffectCompleted``). An open capture
  reserves its amount, an open refund its amount (``refund_pending``), an open
  void the whole payment, so concurrent commands cannot promise the same money twice.
- Gateway events: every command takes an optional ``event_ref`` (the gateway's
  event id); a reference already processed makes the command a silent no-op, so
  a redelivered webhook records nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment.errors import (
    CaptureExceedsAuthorizedError,
    PaymentBusyError,
    RefundNotFoundError,
)
from commerce_core.payments.payment.states import (
    DisputeStatus,
    EffectKind,
    PaymentStatus,
    RefundStatus,
)
from commerce_core.payments.payment.values import Dispute, PaymentEffect, Refund
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.refunds import RefundExceedsCapturedError
from commerce_core.shared.values import PaymentMethod

_S = PaymentStatus
REFUSED = "refused"
"""How the outcome of a gateway call that the gateway refused (nothing moved) begins."""
_REFUNDABLE = frozenset({_S.CAPTURED, _S.PARTIALLY_REFUNDED})


class Payment(Aggregate):
    """A payment for an order: authorization, captures, refunds, disputes, fees."""

    # 2: ``seller_id`` and ``destination_account``; 3: ``effects`` and ``released``
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["seller_id"] = state["destination_account"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["effects"] = {}  # payments before intents had none open
        state["released"] = False

    tenant_id: str
    order_id: UUID
    gateway: str
    method: PaymentMethod
    status: PaymentStatus
    amount: Money
    authorized: Money
    captured: Money
    refunded: Money
    refund_pending: Money
    charged_back: Money
    platform_fee: Money
    gateway_fee: Money
    fee_schedule: FeeSchedule
    gateway_payment_id: str | None
    requires_action: bool
    decline_code: str | None
    refunds: list[Refund]
    dispute: Dispute | None
    processed_refs: set[str]
    seller_id: str | None
    destination_account: str | None
    effects: dict[str, PaymentEffect]
    released: bool
    created_at: datetime
    updated_at: datetime

    class Created(Aggregate.Created):
        """The payment was opened. Version 2 added the marketplace fields; events stored
        before them are read as payments for no seller."""

        class_version = 2
        tenant_id: str
        order_id: UUID
        gateway: str
        method: PaymentMethod
        amount: Money
        fee_schedule: FeeSchedule
        at: datetime
        seller_id: str | None
        destination_account: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["seller_id"] = state["destination_account"] = None

    @event(Created)
    def __init__(
        self,
        id: UUID,  # the aggregate's id: eventsourcing keeps it out of the event's fields
        tenant_id: str,
        order_id: UUID,
        gateway: str,
        method: PaymentMethod,
        amount: Money,
        fee_schedule: FeeSchedule,
        at: datetime,
        seller_id: str | None = None,
        destination_account: str | None = None,
    ) -> None:
        zero = Money.zero(amount.currency)
        self.tenant_id = tenant_id
        self.order_id = order_id
        self.gateway = gateway
        self.method = method
        self.status = PaymentStatus.PENDING
        self.amount = amount
        self.authorized = self.captured = self.refunded = zero
        self.refund_pending = self.charged_back = zero
        self.platform_fee = self.gateway_fee = zero
        self.fee_schedule = fee_schedule
        self.gateway_payment_id = None
        self.requires_action = False
        self.decline_code = None
        self.refunds = []
        self.dispute = None
        self.processed_refs = set()
        self.seller_id = seller_id
        self.destination_account = destination_account
        self.effects = {}
        self.released = False
        self.created_at = self.updated_at = at

    @classmethod
    def create(
        cls,
        payment_id: UUID,
        tenant_id: str | UUID,
        order_id: UUID,
        amount: Money,
        fee_schedule: FeeSchedule,
        at: datetime,
        method: PaymentMethod | str = PaymentMethod.CARD,
        gateway: str = "stripe",
        seller: tuple[str, str] | None = None,
    ) -> Payment:
        """A new pending payment of ``amount``, priced with ``fee_schedule``; ``seller`` is
        (seller id, the seller's gateway account) for a marketplace payment."""
        if amount.amount <= 0:
            raise InvalidValueError("a payment amount must be positive")
        seller_id, account = seller or (None, None)
        return cls(
            id=payment_id,
            tenant_id=str(tenant_id),
            order_id=order_id,
            gateway=gateway,
            method=PaymentMethod(method),
            amount=amount,
            fee_schedule=fee_schedule,
            at=at,
            seller_id=seller_id,
            destination_account=account,
        )

    # Queries

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def net_amount(self) -> Money:
        """What the merchant keeps: see ``commerce_core.payments.fees``."""
        return (
            self.captured - self.refunded - self.charged_back - self.platform_fee - self.gateway_fee
        )

    def platform_fee_after(self, capture: Money) -> Money:
        """The platform fee once ``capture`` more is captured (what ``capture`` records)."""
        return self.fee_schedule.fee_on(self.captured + capture)

    @property
    def capturable(self) -> Money:
        if self.status not in (_S.AUTHORIZED, _S.CAPTURED):
            return Money.zero(self.currency)
        return self.authorized - self.captured

    @property
    def free_to_capture(self) -> Money:
        """What a new capture may take: ``capturable`` less captures under way, nothing
        once a final capture released the rest or a void is under way."""
        if self.released or self.voiding or self.status not in (_S.AUTHORIZED, _S.CAPTURED):
            return Money.zero(self.currency)
        pending = sum(
            (e.amount for e in self._open(EffectKind.CAPTURE) if e.amount is not None),
            Money.zero(self.currency),
        )
        return self.capturable - pending

    @property
    def open_effects(self) -> list[PaymentEffect]:
        """Gateway calls decided on and not completed, oldest first."""
        return list(self.effects.values())

    @property
    def opening(self) -> PaymentEffect | None:
        """The open charge or authorization that created this payment, if still open."""
        return next(iter(self._open(EffectKind.CHARGE, EffectKind.AUTHORIZE)), None)

    @property
    def voiding(self) -> bool:
        return bool(self._open(EffectKind.VOID))

    def effect(self, key: str) -> PaymentEffect | None:
        return self.effects.get(key)

    def _open(self, *kinds: EffectKind) -> list[PaymentEffect]:
        return [e for e in self.effects.values() if e.kind in kinds]

    @property
    def refundable(self) -> Money:
        """What a new refund may take: captured, less refunds succeeded or pending."""
        if self.status not in _REFUNDABLE:
            return Money.zero(self.currency)
        return self.captured - self.refunded - self.refund_pending - self.charged_back

    @property
    def refunds_asked(self) -> Money:
        """Refunds done, running and awaiting approval (not those failed or rejected):
        what a refund approval threshold counts."""
        counted = (RefundStatus.SUCCEEDED, RefundStatus.PENDING, RefundStatus.PENDING_APPROVAL)
        return sum(
            (r.amount for r in self.refunds if r.status in counted), Money.zero(self.currency)
        )

    def refund_by_id(self, refund_id: UUID) -> Refund:
        for refund in self.refunds:
            if refund.id == refund_id:
                return refund
        raise RefundNotFoundError(refund_id)

    def already_processed(self, event_ref: str | None) -> bool:
        """True when this gateway event was recorded before (so a command is a no-op)."""
        return event_ref is not None and event_ref in self.processed_refs

    # Guards

    def _check_status(self, allowed: frozenset[PaymentStatus], action: str) -> None:
        if self.status not in allowed:
            raise InvalidTransitionError("payment", self.status.value, action)

    def _check_positive(self, amount: Money) -> None:
        if amount.currency != self.currency or amount.amount <= 0:
            raise InvalidValueError(f"expected a positive amount in {self.currency}, got {amount}")

    def _check_fee(self, fee: Money | None) -> Money:
        fee = fee or Money.zero(self.currency)
        if fee.currency != self.currency or fee.is_negative:
            raise InvalidValueError(f"expected a fee in {self.currency} >= 0, got {fee}")
        return fee

    def _status_from_amounts(self, refunded: Money) -> PaymentStatus:
        if refunded.is_zero:
            return _S.CAPTURED
        return _S.REFUNDED if refunded >= self.captured else _S.PARTIALLY_REFUNDED

    # Commands: intents (recorded before the gateway is called)

    def request_opening(
        self,
        kind: EffectKind,
        token: str,
        metadata: dict[str, str],
        at: datetime,
        hold_until: datetime | None = None,
    ) -> PaymentEffect:
        """Decides to authorize or charge this new payment at the gateway with ``token``."""
        kind = EffectKind(kind)
        if kind not in (EffectKind.AUTHORIZE, EffectKind.CHARGE):
            raise InvalidValueError(f"a payment opens with authorize or charge, not {kind}")
        self._check_status(frozenset({_S.PENDING}), kind.value)
        if self.gateway_payment_id is not None or self.effects:
            raise InvalidTransitionError("payment", self.status.value, kind.value)
        effect = PaymentEffect(
            key=f"{self.id}:{kind}",
            kind=kind,
            requested_at=at,
            token=token,
            metadata=metadata,
            hold_until=hold_until,
        )
        self._effect_requested(effect=effect, at=at)
        return effect

    def request_capture(self, key: str, amount: Money | None, at: datetime) -> PaymentEffect:
        """Decides to capture ``amount`` (default: all that is free); the capture that
        takes the last of the authorization is final."""
        self._check_status(frozenset({_S.AUTHORIZED, _S.CAPTURED}), _S.CAPTURED)
        self._check_not_busy(EffectKind.VOID)
        free = self.free_to_capture
        amount = free if amount is None else amount
        self._check_positive(amount)
        if amount > free:
            raise CaptureExceedsAuthorizedError(amount, free)
        if key in self.effects or key in self.processed_refs:
            raise InvalidValueError(f"capture {key} already requested")
        pending = self.capturable - free
        fee = None
        if self.destination_account is not None:
            fee = self.fee_schedule.fee_on(self.captured + pending + amount)
        effect = PaymentEffect(
            key=key,
            kind=EffectKind.CAPTURE,
            requested_at=at,
            amount=amount,
            final=amount == free,
            fee=fee,
        )
        self._effect_requested(effect=effect, at=at)
        return effect

    def request_void(self, at: datetime) -> PaymentEffect:
        """Decides to cancel this payment at the gateway (an authorization, or one awaiting
        the customer); refused while a capture or the charge itself is under way."""
        self._check_status(frozenset({_S.PENDING, _S.AUTHORIZED}), _S.VOIDED)
        self._check_not_busy(EffectKind.CAPTURE, EffectKind.CHARGE, EffectKind.AUTHORIZE)
        key = f"{self.id}:void"
        if key in self.effects:
            return self.effects[key]
        effect = PaymentEffect(key=key, kind=EffectKind.VOID, requested_at=at)
        self._effect_requested(effect=effect, at=at)
        return effect

    def request_refund(
        self, refund_id: UUID, amount: Money, at: datetime, reason: str | None = None
    ) -> PaymentEffect:
        """Decides to send ``amount`` back: the refund is pending (it counts against
        ``refundable`` at once) and its gateway call is the intent."""
        self._check_not_busy(EffectKind.VOID)
        self.refund(refund_id, amount, at, reason)
        effect = PaymentEffect(
            key=f"{refund_id}:refund",
            kind=EffectKind.REFUND,
            requested_at=at,
            amount=amount,
            refund_id=refund_id,
        )
        self._effect_requested(effect=effect, at=at)
        return effect

    def request_refund_approval(
        self,
        refund_id: UUID,
        amount: Money,
        at: datetime,
        reason: str | None,
        requested_by: str,
    ) -> Refund:
        """Records a refund that waits for an admin's approval: no intent, no gateway call.
        It holds no money (``refundable`` is unchanged, so other refunds may take it
        meanwhile); ``approve_refund`` checks again what is left."""
        self._check_status(_REFUNDABLE, "refund")
        self._check_positive(amount)
        if any(r.id == refund_id for r in self.refunds):
            raise InvalidValueError(f"refund {refund_id} already exists")
        if amount > self.refundable:
            raise RefundExceedsCapturedError(amount, self.refundable)
        refund = Refund(
            id=refund_id,
            amount=amount,
            reason=reason,
            status=RefundStatus.PENDING_APPROVAL,
            requested_at=at,
            requested_by=requested_by,
        )
        self._refund_approval_requested(refund=refund, order_id=self.order_id, at=at)
        return refund

    def approve_refund(self, refund_id: UUID, at: datetime, by: str) -> PaymentEffect:
        """An admin approves a refund awaiting approval: it becomes pending, with its gateway
        call as the intent, as ``request_refund`` records it. Refused when the money went
        back by other means meanwhile (``RefundExceedsCapturedError``)."""
        refund = self._awaiting_approval(refund_id, "approved")
        self._check_not_busy(EffectKind.VOID)
        # refunded meanwhile (all of it, too): the money is gone, not the refund misplaced
        if self.status in _REFUNDABLE | {_S.REFUNDED} and refund.amount > self.refundable:
            raise RefundExceedsCapturedError(refund.amount, self.refundable)
        self._check_status(_REFUNDABLE, "refund")
        self._refund_approved(refund_id=refund_id, by=by, at=at)
        effect = PaymentEffect(
            key=f"{refund_id}:refund",
            kind=EffectKind.REFUND,
            requested_at=at,
            amount=refund.amount,
            refund_id=refund_id,
        )
        self._effect_requested(effect=effect, at=at)
        return effect

    def reject_refund(self, refund_id: UUID, at: datetime, by: str, reason: str) -> None:
        """An admin refuses a refund awaiting approval; no money moves."""
        self._awaiting_approval(refund_id, "rejected")
        self._refund_rejected(refund_id=refund_id, by=by, reason=reason, at=at)

    def _awaiting_approval(self, refund_id: UUID, target: str) -> Refund:
        refund = self.refund_by_id(refund_id)
        if refund.status is not RefundStatus.PENDING_APPROVAL:
            raise InvalidTransitionError("refund", refund.status.value, target)
        return refund

    def answer(self, key: str, outcome: str, at: datetime) -> None:
        """Notes that the gateway answered the intent ``key`` and its outcome is recorded;
        only the follow-ups remain. Records nothing for a key not open or answered."""
        effect = self.effects.get(key)
        if effect is not None and effect.answer is None:
            self._effect_answered(key=key, outcome=outcome, at=at)

    def complete(self, key: str, outcome: str, at: datetime) -> None:
        """Closes the intent ``key``: its outcome and follow-ups are recorded. A key that is
        not open (completed before, or never requested) records nothing."""
        if key in self.effects:
            self._effect_completed(key=key, outcome=outcome, at=at)

    def _check_not_busy(self, *kinds: EffectKind) -> None:
        if busy := self._open(*kinds):
            raise PaymentBusyError(self.id, busy[0].kind.value)

    # Commands: authorization

    def require_action(
        self, gateway_payment_id: str, at: datetime, event_ref: str | None = None
    ) -> None:
        """The customer must authenticate (3-D Secure) before the gateway authorizes."""
        if self.already_processed(event_ref):
            return
        self._check_status(frozenset({_S.PENDING}), "requires_action")
        self._action_required(gateway_payment_id=gateway_payment_id, at=at, event_ref=event_ref)

    def authorize(
        self, gateway_payment_id: str | None, at: datetime, event_ref: str | None = None
    ) -> None:
        """The gateway holds the full amount for capture."""
        if self.already_processed(event_ref):
            return
        self._check_status(frozenset({_S.PENDING}), _S.AUTHORIZED)
        self._authorized(
            gateway_payment_id=gateway_payment_id, amount=self.amount, at=at, event_ref=event_ref
        )

    def fail(
        self,
        decline_code: str | None,
        at: datetime,
        gateway_payment_id: str | None = None,
        event_ref: str | None = None,
    ) -> None:
        """The gateway declined (or authentication failed); the payment is over."""
        if self.already_processed(event_ref):
            return
        self._check_status(frozenset({_S.PENDING}), _S.FAILED)
        self._failed(
            decline_code=decline_code,
            gateway_payment_id=gateway_payment_id,
            at=at,
            event_ref=event_ref,
        )

    def void(self, at: datetime, event_ref: str | None = None) -> None:
        """Cancels before anything is captured (the hold is released)."""
        if self.already_processed(event_ref):
            return
        self._check_status(frozenset({_S.PENDING, _S.AUTHORIZED}), _S.VOIDED)
        self._voided(at=at, event_ref=event_ref)

    # Commands: money in

    def capture(
        self,
        at: datetime,
        amount: Money | None = None,
        gateway_fee: Money | None = None,
        event_ref: str | None = None,
    ) -> None:
        """Takes ``amount`` (default: all that is left) of the authorization.

        ``gateway_fee`` is the gateway's fee for this capture.
        """
        if self.already_processed(event_ref):
            return
        self._check_status(frozenset({_S.AUTHORIZED, _S.CAPTURED}), _S.CAPTURED)
        capturable = self.capturable
        amount = capturable if amount is None else amount
        self._check_positive(amount)
        if amount > capturable:
            raise CaptureExceedsAuthorizedError(amount, capturable)
        fee = self._check_fee(gateway_fee)
        platform_fee = self.platform_fee_after(amount) - self.platform_fee
        self._captured(
            amount=amount, gateway_fee=fee, platform_fee=platform_fee, at=at, event_ref=event_ref
        )

    def charge(
        self,
        gateway_payment_id: str | None,
        at: datetime,
        gateway_fee: Money | None = None,
        event_ref: str | None = None,
    ) -> None:
        """Authorizes and captures the full amount at once."""
        if self.already_processed(event_ref):
            return
        self._check_status(frozenset({_S.PENDING}), _S.CAPTURED)
        self._check_fee(gateway_fee)  # both events or neither: check before the first
        self.authorize(gateway_payment_id, at)
        self.capture(at, gateway_fee=gateway_fee, event_ref=event_ref)

    # Commands: money out

    def refund(
        self,
        refund_id: UUID,
        amount: Money,
        at: datetime,
        reason: str | None = None,
        event_ref: str | None = None,
    ) -> None:
        """Requests a refund; it is pending until ``confirm_refund`` or ``fail_refund``."""
        if self.already_processed(event_ref):
            return
        self._check_status(_REFUNDABLE, "refund")
        self._check_positive(amount)
        if any(r.id == refund_id for r in self.refunds):
            raise InvalidValueError(f"refund {refund_id} already exists")
        refundable = self.refundable
        if amount > refundable:
            raise RefundExceedsCapturedError(amount, refundable)
        self._refund_requested(
            refund_id=refund_id, amount=amount, reason=reason, at=at, event_ref=event_ref
        )

    def confirm_refund(
        self,
        refund_id: UUID,
        gateway_refund_id: str | None,
        at: datetime,
        event_ref: str | None = None,
    ) -> None:
        """The gateway sent the money back."""
        if self.already_processed(event_ref):
            return
        refund = self._pending_refund(refund_id, RefundStatus.SUCCEEDED)
        status = self.status
        if status != _S.DISPUTED:
            status = self._status_from_amounts(self.refunded + refund.amount)
        self._refund_succeeded(
            refund_id=refund_id,
            gateway_refund_id=gateway_refund_id,
            status=status,
            at=at,
            event_ref=event_ref,
        )

    def fail_refund(
        self,
        refund_id: UUID,
        at: datetime,
        failure_code: str | None = None,
        event_ref: str | None = None,
    ) -> None:
        """The gateway could not refund; the amount becomes refundable again."""
        if self.already_processed(event_ref):
            return
        self._pending_refund(refund_id, RefundStatus.FAILED)
        self._refund_failed(
            refund_id=refund_id, failure_code=failure_code, at=at, event_ref=event_ref
        )

    def _pending_refund(self, refund_id: UUID, target: RefundStatus) -> Refund:
        refund = self.refund_by_id(refund_id)
        if refund.status != RefundStatus.PENDING:
            raise InvalidTransitionError("refund", refund.status.value, target.value)
        return refund

    # Commands: disputes

    def open_dispute(
        self,
        dispute_id: str,
        amount: Money,
        reason: str,
        at: datetime,
        event_ref: str | None = None,
    ) -> None:
        """The cardholder's bank disputes ``amount``; the funds are held."""
        if self.already_processed(event_ref):
            return
        self._check_status(_REFUNDABLE, _S.DISPUTED)
        self._check_positive(amount)
        if amount > self.refundable:
            raise InvalidValueError(f"dispute of {amount} exceeds the refundable {self.refundable}")
        self._dispute_opened(
            dispute_id=dispute_id, amount=amount, reason=reason, at=at, event_ref=event_ref
        )

    def win_dispute(self, at: datetime, event_ref: str | None = None) -> None:
        """The dispute was decided for the merchant; the funds are released."""
        if self.already_processed(event_ref):
            return
        self._check_open_dispute("won")
        status = self._status_from_amounts(self.refunded)
        self._dispute_won(status=status, at=at, event_ref=event_ref)

    def lose_dispute(self, at: datetime, event_ref: str | None = None) -> None:
        """The dispute was decided for the cardholder; the amount is charged back."""
        if self.already_processed(event_ref):
            return
        self._check_open_dispute("lost")
        self._dispute_lost(at=at, event_ref=event_ref)

    def _check_open_dispute(self, outcome: str) -> None:
        if self.dispute is None or self.dispute.status != DisputeStatus.OPEN:
            raise InvalidTransitionError("dispute", self._dispute_state(), outcome)

    def _dispute_state(self) -> str:
        return "none" if self.dispute is None else self.dispute.status.value

    # Events: deterministic state changes, replayed from the log

    def _touch(self, at: datetime, event_ref: str | None) -> None:
        self.updated_at = at
        if event_ref is not None:
            self.processed_refs.add(event_ref)

    @event("EffectRequested")
    def _effect_requested(self, effect: PaymentEffect, at: datetime) -> None:
        self.effects[effect.key] = effect
        if effect.kind is EffectKind.CAPTURE and effect.final:
            self.released = True
        self.updated_at = at

    @event("EffectAnswered")
    def _effect_answered(self, key: str, outcome: str, at: datetime) -> None:
        self.effects[key] = msgspec.structs.replace(self.effects[key], answer=outcome)
        self.updated_at = at

    @event("EffectCompleted")
    def _effect_completed(self, key: str, outcome: str, at: datetime) -> None:
        effect = self.effects.pop(key)
        if effect.kind is EffectKind.CAPTURE and effect.final and outcome.startswith(REFUSED):
            # the final capture did not happen: what it would have released is still held
            self.released = False
        self.updated_at = at

    @event("ActionRequired")
    def _action_required(
        self, gateway_payment_id: str, at: datetime, event_ref: str | None
    ) -> None:
        self.gateway_payment_id = gateway_payment_id
        self.requires_action = True
        self._touch(at, event_ref)

    @event("Authorized")
    def _authorized(
        self, gateway_payment_id: str | None, amount: Money, at: datetime, event_ref: str | None
    ) -> None:
        self.gateway_payment_id = gateway_payment_id or self.gateway_payment_id
        self.authorized = amount
        self.requires_action = False
        self.status = _S.AUTHORIZED
        self._touch(at, event_ref)

    @event("Failed")
    def _failed(
        self,
        decline_code: str | None,
        gateway_payment_id: str | None,
        at: datetime,
        event_ref: str | None,
    ) -> None:
        self.gateway_payment_id = gateway_payment_id or self.gateway_payment_id
        self.decline_code = decline_code
        self.requires_action = False
        self.status = _S.FAILED
        self._touch(at, event_ref)

    @event("Voided")
    def _voided(self, at: datetime, event_ref: str | None) -> None:
        self.requires_action = False
        self.status = _S.VOIDED
        self._touch(at, event_ref)

    @event("Captured")
    def _captured(
        self,
        amount: Money,
        gateway_fee: Money,
        platform_fee: Money,
        at: datetime,
        event_ref: str | None,
    ) -> None:
        self.captured += amount
        self.gateway_fee += gateway_fee
        self.platform_fee += platform_fee
        self.status = _S.CAPTURED
        self._touch(at, event_ref)

    @event("RefundRequested")
    def _refund_requested(
        self,
        refund_id: UUID,
        amount: Money,
        reason: str | None,
        at: datetime,
        event_ref: str | None,
    ) -> None:
        refund = Refund(
            id=refund_id, amount=amount, reason=reason, status=RefundStatus.PENDING, requested_at=at
        )
        self.refunds.append(refund)
        self.refund_pending += amount
        self._touch(at, event_ref)

    @event("RefundApprovalRequested")
    def _refund_approval_requested(self, refund: Refund, order_id: UUID, at: datetime) -> None:
        # order_id: so that the approvals list can show the order without loading the payment
        self.refunds.append(refund)
        self.updated_at = at

    def _replace_refund(self, refund_id: UUID, **changes: object) -> Refund:
        index = next(i for i, r in enumerate(self.refunds) if r.id == refund_id)
        refund = self.refunds[index]
        self.refunds[index] = msgspec.structs.replace(refund, **changes)
        return refund

    @event("RefundApproved")
    def _refund_approved(self, refund_id: UUID, by: str, at: datetime) -> None:
        refund = self._replace_refund(refund_id, status=RefundStatus.PENDING, decided_by=by)
        self.refund_pending += refund.amount
        self.updated_at = at

    @event("RefundRejected")
    def _refund_rejected(self, refund_id: UUID, by: str, reason: str, at: datetime) -> None:
        self._replace_refund(
            refund_id,
            status=RefundStatus.REJECTED,
            decided_by=by,
            rejection=reason,
            settled_at=at,
        )
        self.updated_at = at

    def _settle(self, refund_id: UUID, **changes: object) -> Refund:
        index = next(i for i, r in enumerate(self.refunds) if r.id == refund_id)
        refund = self.refunds[index]
        self.refunds[index] = msgspec.structs.replace(refund, **changes)
        self.refund_pending -= refund.amount
        return refund

    @event("RefundSucceeded")
    def _refund_succeeded(
        self,
        refund_id: UUID,
        gateway_refund_id: str | None,
        status: PaymentStatus,
        at: datetime,
        event_ref: str | None,
    ) -> None:
        refund = self._settle(
            refund_id,
            status=RefundStatus.SUCCEEDED,
            gateway_refund_id=gateway_refund_id,
            settled_at=at,
        )
        self.refunded += refund.amount
        self.status = status
        self._touch(at, event_ref)

    @event("RefundFailed")
    def _refund_failed(
        self, refund_id: UUID, failure_code: str | None, at: datetime, event_ref: str | None
    ) -> None:
        self._settle(
            refund_id, status=RefundStatus.FAILED, failure_code=failure_code, settled_at=at
        )
        self._touch(at, event_ref)

    @event("DisputeOpened")
    def _dispute_opened(
        self, dispute_id: str, amount: Money, reason: str, at: datetime, event_ref: str | None
    ) -> None:
        self.dispute = Dispute(
            id=dispute_id, amount=amount, reason=reason, status=DisputeStatus.OPEN, opened_at=at
        )
        self.status = _S.DISPUTED
        self._touch(at, event_ref)

    @event("DisputeWon")
    def _dispute_won(self, status: PaymentStatus, at: datetime, event_ref: str | None) -> None:
        assert self.dispute is not None
        self.dispute = msgspec.structs.replace(self.dispute, status=DisputeStatus.WON, closed_at=at)
        self.status = status
        self._touch(at, event_ref)

    @event("DisputeLost")
    def _dispute_lost(self, at: datetime, event_ref: str | None) -> None:
        assert self.dispute is not None
        self.dispute = msgspec.structs.replace(
            self.dispute, status=DisputeStatus.LOST, closed_at=at
        )
        self.charged_back += self.dispute.amount
        self._touch(at, event_ref)
