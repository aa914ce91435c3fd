"""Refunds that wait for an admin's approval (ADR 0020).

A caller whose context carries ``refund_approval_above`` (staff and service keys:
the tenant's threshold) may not take an order's refunds, cumulatively (done,
running and awaiting approval, across the order's payments), above it. Such a
refund is recorded as ``pending_approval`` on its payment, with no intent and no
gateway call, in the same decision and on the same payment stream as any refund,
so two concurrent requests that together pass the threshold cannot both run: the
second loses its append, decides again and is held for approval.

An admin approves it (it becomes pending with its gateway call as the intent, then
runs through ``run_effect`` as any refund) or rejects it with a reason. Each step is
an event on the payment's stream naming the refund and who acted.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.effects import run_effect
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import Payment
from commerce_core.payments.refund_effects import RefundResult
from commerce_core.payments.refund_reference import RefundReference, load_refund_reference
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict

__all__ = ["approve_refund", "needs_approval", "referenced", "reject_refund"]


def needs_approval(ctx: CommandContext, payments: Iterable[Payment], more: Money) -> bool:
    """Whether refunding ``more`` of an order whose payments are ``payments`` takes its
    refunds above the caller's limit."""
    limit = ctx.refund_approval_above
    if limit is None:
        return False
    asked = sum(p.refunds_asked.amount for p in payments if p.currency == more.currency)
    return asked + more.amount > limit


def referenced(payment: Payment, refund_id: UUID) -> RefundReference:
    """The reference to a refund just held for approval, saved in the same append."""
    return RefundReference.link(payment.tenant_id, refund_id, payment.id, payment.order_id)


async def approve_refund(
    services: PaymentServices, ctx: CommandContext, refund_id: UUID
) -> RefundResult:
    """``POST /refunds/{id}/approve``: the refund runs, intent first, as any refund.

    ``InvalidTransitionError`` unless it awaits approval (approved or rejected before);
    ``RefundExceedsCapturedError`` when the payment's money went back by other means
    meanwhile; ``AggregateNotFoundError`` for a refund of another tenant or none.
    """
    repo = services.repo
    reference = await load_refund_reference(repo, ctx.tenant_id, refund_id)
    at = services.clock.now()

    async def decide() -> None:
        payment = await load_payment(repo, ctx.tenant_id, reference.payment_id)
        payment.approve_refund(refund_id, at, ctx.actor)
        await repo.save(payment, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)

    await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)
    run = await run_effect(services, ctx, reference.payment_id, f"{refund_id}:refund")
    if run.refused is not None:
        raise run.refused
    return RefundResult.of(run.payment, refund_id, run.attention)


async def reject_refund(
    services: PaymentServices, ctx: CommandContext, refund_id: UUID, reason: str
) -> RefundResult:
    """``POST /refunds/{id}/reject``: the refund is refused; no money moves.

    ``InvalidTransitionError`` unless it awaits approval.
    """
    repo = services.repo
    reference = await load_refund_reference(repo, ctx.tenant_id, refund_id)
    at = services.clock.now()

    async def decide() -> Payment:
        payment = await load_payment(repo, ctx.tenant_id, reference.payment_id)
        payment.reject_refund(refund_id, at, ctx.actor, reason)
        await repo.save(payment, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
        return payment

    payment = await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)
    return RefundResult.of(payment, refund_id)
