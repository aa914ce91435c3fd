"""Time-driven jobs, one order at a time: release expired holds, cancel unpaid orders.

Each job takes one order id and is a no-op (returns ``False`` / ``None``) when
nothing is due at the ``Clock``'s now, so running it too early, twice, or for
an order that moved on meanwhile is harmless.

How the worker drives them: every minute or so it asks the orders read model
for candidates of each tenant -- orders in ``pending_payment`` or
``payment_failed`` whose ``reservation_expires_at`` has passed (for
``expire_order_reservations``) or whose ``created_at`` is older than the
tenant's ``auto_cancel_unpaid_hours`` (for ``auto_cancel_unpaid``) -- and calls
the job for each id with a system ``CommandContext``. The read model may lag
or hold stale rows; each job checks the order itself before acting.

A cash-on-delivery order is neither: its hold lasts until it ships or is
cancelled (it never expires), and it is paid at the door, so it is never
cancelled for being unpaid.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.inventory.order_stock import load_stock, release_lines
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.order import AWAITING_PAYMENT, Order
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.loading import load_payments
from commerce_core.payments.payment import PaymentStatus
from commerce_core.processes.cancellation import cancel_order
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.retry import retry_on_conflict


async def expire_order_reservations(
    repo: Repository, clock: Clock, ctx: CommandContext, order_id: UUID
) -> bool:
    """Releases the order's stock reservations that have expired; True if any were.

    The order itself is unchanged: it may still be paid (payment takes stock
    afresh if any is left) until it is cancelled. Holds that an authorization
    extended have not expired, so they stay.
    """

    async def attempt() -> bool:
        order = await load_order(repo, ctx.tenant_id, order_id)
        stock = await load_stock(repo, order.tenant_id, [line.sku for line in order.lines])
        released = release_lines(stock, order.id, clock.now(), expired_only=True)
        if released:
            await repo.save(*released, metadata=ctx.metadata())
        return bool(released)

    return await retry_on_conflict(attempt)


async def auto_cancel_unpaid(
    services: PaymentServices, ctx: CommandContext, order_id: UUID, unpaid_hours: int
) -> Order | None:
    """Cancels an order still unpaid ``unpaid_hours`` after it was placed; the cancelled
    order, or None when not due.

    Unpaid means awaiting payment with nothing paid and no open authorization
    (an authorized order is waiting for the merchant's capture, not for the
    customer). A payment awaiting 3-D Secure does not keep the order: it is voided.
    A cash-on-delivery order is paid when delivered, so it is never due.
    """
    repo = services.repo
    order = await load_order(repo, ctx.tenant_id, order_id)
    if order.is_cash_on_delivery:
        return None
    if services.clock.now() < order.created_at + timedelta(hours=unpaid_hours):
        return None
    if order.status not in AWAITING_PAYMENT or not order.paid.is_zero:
        return None
    payments = await load_payments(repo, await load_ledger(repo, order))
    if any(p.status is PaymentStatus.AUTHORIZED for p in payments):
        return None
    reason = f"unpaid after {unpaid_hours} hours"
    return await cancel_order(services, ctx, order_id, reason)
