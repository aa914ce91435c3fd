"""``PATCH /orders/{id}``: an order moved to the status asked for; ``cancelled`` cancels it."""

from __future__ import annotations

from uuid import UUID

from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.payments.bundle import PaymentServices
from commerce_core.processes.cancellation import cancel_order
from commerce_core.shared.context import CommandContext
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import parse_enum


async def change_order_status(
    services: PaymentServices,
    ctx: CommandContext,
    order_id: UUID,
    target: OrderStatus | str,
    reason: str | None = None,
) -> Order:
    """``PATCH /orders/{id}``: moves the order as its table and guards allow.

    ``cancelled`` is ``cancel_order`` (it voids and refunds payments and frees
    stock). Statuses that need a payment, refund, shipment or dispute raise
    ``CommandRequiredError``; others the order refuses raise
    ``InvalidTransitionError``. Asking for the status the order is in is refused too.
    """
    status = parse_enum(OrderStatus, target)
    if status is OrderStatus.CANCELLED:
        return await cancel_order(services, ctx, order_id, reason)
    repo, clock = services.repo, services.clock

    async def attempt() -> Order:
        order = await load_order(repo, ctx.tenant_id, order_id)
        order.change_status(status, clock.now(), ctx.actor, reason)
        await repo.save(order, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
        return order

    return await retry_on_conflict(attempt)
