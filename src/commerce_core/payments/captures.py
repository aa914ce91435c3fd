"""Capturing an authorization, once or several times: each capture an intent first."""

from __future__ import annotations

from uuid import UUID

from commerce_core.ordering.loading import load_order
from commerce_core.ordering.money_received import check_money_in
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.effects import run_effect
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import PaymentStatus
from commerce_core.payments.results import PaymentResult, as_money
from commerce_core.shared.command_ids import intent_key
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict


async def capture_payment(
    services: PaymentServices,
    ctx: CommandContext,
    payment_id: UUID,
    amount: int | Money | None = None,
) -> PaymentResult:
    """``POST /payments/{id}/capture``: takes ``amount`` (minor units; default all that is
    left) of an authorization. Several captures may follow one another, each its own
    intent; the one that takes the last of the authorization is final.

    The capture is decided and recorded on the payment first (it reserves its amount, so
    concurrent captures cannot exceed the authorization), then the gateway captures it,
    then the payment, the order (money received) and, once paid in full, its stock are
    recorded. Refused before the gateway, recording nothing: ``InvalidTransitionError``
    (not authorized; order not awaiting payment), ``CaptureExceedsAuthorizedError``,
    ``OverpaymentError``, ``InsufficientStockError``, ``PaymentBusyError`` (a void is
    under way). The same command again (same idempotency key) returns the payment.
    A seller's payment sends the platform fee on what is captured.
    """
    repo = services.repo
    at = services.clock.now()

    async def decide() -> str:
        payment = await load_payment(repo, ctx.tenant_id, payment_id)
        key = intent_key(ctx, payment, "capture")
        if payment.already_processed(key) or payment.effect(key) is not None:
            return key  # this command ran before
        if payment.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
            raise InvalidTransitionError("payment", payment.status, PaymentStatus.CAPTURED)
        wanted = as_money(amount, payment.currency)
        if wanted is not None and wanted.amount <= 0:
            raise InvalidValueError("a capture amount must be positive")
        effect = payment.request_capture(key, wanted, at)
        assert effect.amount is not None
        order = await load_order(repo, ctx.tenant_id, payment.order_id)
        await check_money_in(repo, order, payment.id, effect.amount, at)
        await repo.save(payment, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
        return key

    key = await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)
    run = await run_effect(services, ctx, payment_id, key)
    if run.refused is not None:
        raise run.refused
    return PaymentResult(run.payment, attention=run.attention, pending=run.pending)
