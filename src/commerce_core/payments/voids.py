"""Voiding payments: on request, when cancelling, and when a new attempt replaces one.

Voiding leaves the order as it is: it still owes its total (``pending_payment``
or ``payment_failed``) and may be paid again; its stock stays held until the
hold ends, the unpaid-order job cancels it, or it is cancelled.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.effects import run_effect
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.gateway import GatewayPayment, GatewayStatus, PaymentGateway
from commerce_core.payments.results import PaymentInFlightError
from commerce_core.payments.sync import sync_payment
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict

_VOIDABLE = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)


async def void_payment(services: PaymentServices, ctx: CommandContext, payment_id: UUID) -> Payment:
    """``POST /payments/{id}/void``: cancels an authorization (or a payment awaiting 3-D
    Secure). Voiding a voided payment returns it unchanged; a captured, failed or refunded
    one raises ``InvalidTransitionError``; one with a capture under way
    ``PaymentBusyError``. The void is recorded first (no capture can start after it), then
    made. A payment awaiting 3-D Secure that failed at the gateway meanwhile is recorded as
    failed; one that was captured meanwhile is recorded as captured (and the order paid),
    and ``PaymentInFlightError`` says so. The order is not changed otherwise."""
    repo, gateway = services.repo, services.gateway
    at = services.clock.now()
    await check_not_completed(gateway, await load_payment(repo, ctx.tenant_id, payment_id))

    async def decide() -> str | None:
        payment = await load_payment(repo, ctx.tenant_id, payment_id)
        if payment.status is PaymentStatus.VOIDED:
            return None
        if payment.status not in _VOIDABLE:
            raise InvalidTransitionError("payment", payment.status, PaymentStatus.VOIDED)
        effect = payment.request_void(at)
        await repo.save(payment, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
        return effect.key

    key = await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)
    if key is None:
        return await load_payment(repo, ctx.tenant_id, payment_id)
    run = await run_effect(services, ctx, payment_id, key)
    if run.refused is not None:
        raise run.refused
    if run.payment.status is PaymentStatus.CAPTURED:
        raise PaymentInFlightError(payment_id)
    return run.payment


async def check_not_completed(gateway: PaymentGateway, payment: Payment) -> None:
    """Asks the gateway (a read) about a payment waiting for 3-D Secure: one the customer
    completed meanwhile raises ``PaymentInFlightError`` before anything is decided; its
    webhook will record it."""
    gateway_id = payment.gateway_payment_id
    if payment.status is not PaymentStatus.PENDING or not payment.requires_action:
        return
    if gateway_id is not None:
        view = await call_gateway(lambda: gateway.retrieve(gateway_id))
        if view.status is GatewayStatus.CAPTURED:
            raise PaymentInFlightError(payment.id)


def apply_void(payment: Payment, answer: GatewayPayment | None, at: datetime) -> None:
    """Records the gateway's answer to a void (or the void of one it never saw)."""
    if answer is not None:
        sync_payment(payment, answer, at)
    elif payment.status in _VOIDABLE:
        payment.void(at)
