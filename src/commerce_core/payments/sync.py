"""Bringing a ``Payment`` up to what the gateway says about it.

Our own calls and the gateway's webhooks both report the gateway's view of a
payment (``GatewayPayment``: status and cumulative amounts). Applying it is
idempotent **by state**: only the difference between that view and the
payment is recorded, so the answer to our call and the webhook about the same
change, arriving in any order and any number of times, record it once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.gateway import GatewayPayment, GatewayStatus
from commerce_core.shared.money import Money

P = PaymentStatus
G = GatewayStatus


def _fee_delta(payment: Payment, answer: GatewayPayment) -> Money | None:
    if answer.gateway_fee is None:
        return None
    return (answer.gateway_fee - payment.gateway_fee).max(Money.zero(payment.currency))


def sync_payment(
    payment: Payment, answer: GatewayPayment, at: datetime, ref: str | None = None
) -> Money:
    """Records on ``payment`` what ``answer`` shows and it lacks; returns the money newly
    captured (zero if none). ``ref`` (a gateway event id or our call's key) is recorded
    with the last change, so that reference is then known as processed."""
    steps: list[Callable[[str | None], object]] = []
    status, gateway_id = answer.status, answer.gateway_payment_id
    pending = payment.status is P.PENDING
    captured = Money.zero(payment.currency)
    if status is G.FAILED:
        if pending:
            steps.append(lambda r: payment.fail(answer.decline_code, at, gateway_id, r))
    elif status is G.REQUIRES_ACTION:
        if pending and not payment.requires_action:
            steps.append(lambda r: payment.require_action(gateway_id, at, r))
    elif status is G.VOIDED:
        if payment.status in (P.PENDING, P.AUTHORIZED):
            steps.append(lambda r: payment.void(at, r))
    elif payment.status in (P.PENDING, P.AUTHORIZED, P.CAPTURED):
        if pending:
            steps.append(lambda r: payment.authorize(gateway_id, at, r))
        if answer.captured > payment.captured:
            captured = answer.captured - payment.captured
            fee = _fee_delta(payment, answer)
            steps.append(lambda r: payment.capture(at, captured, fee, r))
    for number, step in enumerate(steps, 1):
        step(ref if number == len(steps) else None)
    return captured
