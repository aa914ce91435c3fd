"""Capturing an authorization: the gateway takes the money, the order records it."""

from __future__ import annotations

from uuid import UUID

from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.money_received import IncomingMoney, check_money_in, receive_money
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.destinations import capture_fee
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import CaptureExceedsAuthorizedError, PaymentStatus
from commerce_core.payments.results import PaymentResult, as_money
from commerce_core.payments.sync import sync_payment
from commerce_core.shared.command_ids import effect_key
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.retry import retry_on_conflict


async def capture_payment(
    services: PaymentServices,
    ctx: CommandContext,
    payment_id: UUID,
    amount: int | Money | None = None,
) -> PaymentResult:
    """``POST /payments/{id}/capture``: takes ``amount`` (minor units; default all) of an
    authorization; the gateway releases the rest (one capture per authorization).

    The order records the money and, once paid in full, its stock is taken, in the
    same append as the payment. Refused before the gateway, recording nothing:
    ``InvalidTransitionError`` (not authorized; order not awaiting payment),
    ``CaptureExceedsAuthorizedError``, ``OverpaymentError``, ``InsufficientStockError``.
    The same command again (same idempotency key) returns the payment unchanged.
    A seller's payment sends the platform fee on what is captured (``capture_fee``).
    """
    repo, gateway = services.repo, services.gateway
    payment = await load_payment(repo, ctx.tenant_id, payment_id)
    ref = effect_key(ctx, payment, "capture")
    if payment.already_processed(ref):
        return PaymentResult(payment)
    if payment.status is not PaymentStatus.AUTHORIZED or payment.gateway_payment_id is None:
        raise InvalidTransitionError("payment", payment.status, PaymentStatus.CAPTURED)
    capturable = payment.capturable
    wanted = as_money(amount, payment.currency) or capturable
    if wanted.amount <= 0:
        raise InvalidValueError("a capture amount must be positive")
    if wanted > capturable:
        raise CaptureExceedsAuthorizedError(wanted, capturable)
    at = services.clock.now()
    order = await load_order(repo, ctx.tenant_id, payment.order_id)
    await check_money_in(repo, order, payment.id, wanted, at)
    gateway_id = payment.gateway_payment_id
    fee = capture_fee(payment, wanted)
    answer = await call_gateway(lambda: gateway.capture(gateway_id, wanted, ref, fee))

    async def record() -> PaymentResult:
        payment = await load_payment(repo, ctx.tenant_id, payment_id)
        if payment.already_processed(ref):
            return PaymentResult(payment)
        order = await load_order(repo, ctx.tenant_id, payment.order_id)
        ledger = await load_ledger(repo, order)
        captured = sync_payment(payment, answer, at, ref)
        money = IncomingMoney(payment.id, captured, at, ctx.actor)
        touched, note = await receive_money(repo, order, ledger, money)
        await repo.save(
            payment,
            order,
            ledger,
            *touched,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        return PaymentResult(payment, attention=note)

    return await retry_on_conflict(record)
