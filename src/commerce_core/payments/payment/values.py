"""A payment's refunds and dispute, as the payment keeps them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commerce_core.payments.payment.states import DisputeStatus, EffectKind, RefundStatus
from commerce_core.shared.money import Money


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    """A refund of the payment. One that needed an admin's approval names who asked
    (``requested_by``) and who decided (``decided_by``; ``rejection`` when refused)."""

    id: UUID
    amount: Money
    reason: str | None
    status: RefundStatus
    requested_at: datetime
    gateway_refund_id: str | None = None
    failure_code: str | None = None
    settled_at: datetime | None = None
    requested_by: str | None = None
    decided_by: str | None = None
    rejection: str | None = None


class Dispute(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    amount: Money
    reason: str
    status: DisputeStatus
    opened_at: datetime
    closed_at: datetime | None = None


class PaymentEffect(msgspec.Struct, frozen=True, kw_only=True):
    """A gateway call the payment decided on, recorded before the call: its intent.

    ``key`` is the idempotency key the gateway receives, so asking again (after a
    crash or a lost answer) moves money once. The intent stays open until its
    outcome and follow-ups are recorded (``Payment.complete``).
    ``token``: charge and authorize keep the customer's payment-method token to ask
    again, with the ``metadata`` sent the first time (a vendor refuses a key reused
    with another request). ``final``: a capture that releases what is left of the
    authorization; ``fee``: the application fee a seller's capture sends;
    ``hold_until``: how long an authorization holds the order's stock.
    ``answer``: the outcome, once recorded (``Payment.answer``); the follow-ups on the
    order come next, and then the intent is closed.
    """

    key: str
    kind: EffectKind
    requested_at: datetime
    amount: Money | None = None
    refund_id: UUID | None = None
    token: str | None = None
    metadata: dict[str, str] | None = None
    final: bool = True
    fee: Money | None = None
    hold_until: datetime | None = None
    answer: str | None = None
