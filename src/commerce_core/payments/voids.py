"""Voiding payments: on request, when cancelling, and when a new attempt replaces one.

Voiding leaves the order as it is: it still owes its total (``pending_payment``
or ``payment_failed``) and may be paid again; its stock stays held until the
hold ends, the unpaid-order job cancels it, or it is cancelled.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.gateway import GatewayPayment, GatewayStatus, PaymentGateway
from commerce_core.payments.results import PaymentInFlightError
from commerce_core.payments.sync import sync_payment
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidTransitionError
from commerce_core.shared.retry import retry_on_conflict

_VOIDABLE = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)


async def void_payment(services: PaymentServices, ctx: CommandContext, payment_id: UUID) -> Payment:
    """``POST /payments/{id}/void``: cancels an authorization (or a payment awaiting 3-D
    Secure). Voiding a voided payment returns it unchanged; a captured, failed or refunded
    one raises ``InvalidTransitionError``. A payment awaiting 3-D Secure that failed at
    the gateway meanwhile is recorded as failed; one that was captured meanwhile raises
    ``PaymentInFlightError``. The order is not changed."""
    payment = await load_payment(services.repo, ctx.tenant_id, payment_id)
    if payment.status is PaymentStatus.VOIDED:
        return payment
    if payment.status not in _VOIDABLE:
        raise InvalidTransitionError("payment", payment.status, PaymentStatus.VOIDED)
    answer = await void_at_gateway(services.gateway, payment)
    return await _record_void(services.repo, ctx, payment_id, answer, services.clock.now())


async def supersede_waiting(
    services: PaymentServices, ctx: CommandContext, payments: list[Payment], at: datetime
) -> None:
    """Voids payments still waiting for 3-D Secure: a new attempt replaces them, so the
    customer cannot complete both and pay twice. If one was captured at the gateway
    meanwhile, ``PaymentInFlightError`` stops the new attempt before it moves money; the
    completed one arrives as a gateway event."""
    for payment in payments:
        if payment.status is PaymentStatus.PENDING and payment.requires_action:
            answer = await void_at_gateway(services.gateway, payment)
            await _record_void(services.repo, ctx, payment.id, answer, at)


async def void_at_gateway(gateway: PaymentGateway, payment: Payment) -> GatewayPayment | None:
    """Voids an open payment at the gateway; returns the gateway's view to record (None
    if the payment never reached it).

    The gateway is asked first what it knows, since the customer may have finished
    3-D Secure and our books wait for the webhook: a payment that failed (or was
    voided) there needs only recording; one that captured raises
    ``PaymentInFlightError`` (its money is in, and its webhook will record it).
    One void per payment, so one idempotency key.
    """
    gateway_id = payment.gateway_payment_id
    if gateway_id is None:
        return None
    view = await call_gateway(lambda: gateway.retrieve(gateway_id))
    if view.status in (GatewayStatus.FAILED, GatewayStatus.VOIDED):
        return view
    if view.status is GatewayStatus.CAPTURED:
        raise PaymentInFlightError(payment.id)
    return await call_gateway(lambda: gateway.void(gateway_id, f"{payment.id}:void"))


def apply_void(payment: Payment, answer: GatewayPayment | None, at: datetime) -> None:
    """Records the gateway's answer to a void (or the void of one it never saw)."""
    if answer is not None:
        sync_payment(payment, answer, at)
    elif payment.status in _VOIDABLE:
        payment.void(at)


async def _record_void(
    repo: Repository,
    ctx: CommandContext,
    payment_id: UUID,
    answer: GatewayPayment | None,
    at: datetime,
) -> Payment:
    async def record() -> Payment:
        payment = await load_payment(repo, ctx.tenant_id, payment_id)
        apply_void(payment, answer, at)
        await repo.save(payment, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
        return payment

    return await retry_on_conflict(record)
