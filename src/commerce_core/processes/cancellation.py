"""Cancelling an order: void what is authorized, refund what is captured, free the stock.

The decision comes first, in one append: the order ``Cancelled``, a void intent
for each open payment, a refund intent for all that is left of each captured
one, reservations released and the units the order had taken from stock put
back. Only then are the voids and refunds made, each with its intent's key, and
their outcomes recorded (a refund of a cancelled order keeps it ``cancelled``).
A shipment recorded meanwhile makes the cancellation lose its append and be
refused before any gateway call, so a shipped order is never refunded by a
cancel that lost the race. Calls left unanswered are finished by recovery.

Only card payments go back through the gateway. Money taken by hand (a bank
transfer, cash) stays recorded on the cancelled order until staff hand it back
(``POST /payments/{id}/manual-refund``): the gateway does not know it.

A caller whose refunds need approval (``ctx.refund_approval_above``, ADR 0020)
and whose cancel would take the order's refunds above it still cancels: the order
is ``cancelled`` at once (stock freed), and each refund is recorded as
``pending_approval`` instead of with its intent. Until an admin approves (the refund
runs; the order stays ``cancelled`` and shows it in ``totals.refunded``) or rejects
(the money stays, shown as paid on the cancelled order), the order reads
``cancelled`` with ``refunded`` unchanged.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.inventory.order_stock import load_stock, put_back, release_lines
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.effects import run_effect
from commerce_core.payments.gateway_refunds import refunds_at_gateway
from commerce_core.payments.loading import load_payments
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.refund_approvals import needs_approval, referenced
from commerce_core.payments.refund_reference import RefundReference
from commerce_core.payments.voids import check_not_completed
from commerce_core.shared.command_ids import intent_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict

_OPEN = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)


async def cancel_order(
    services: PaymentServices, ctx: CommandContext, order_id: UUID, reason: str | None = None
) -> Order:
    """``POST /orders/{id}/cancel``: the order as cancelled.

    Refused with ``InvalidTransitionError`` (recording nothing, calling no gateway)
    once anything shipped, or when the order is cancelled already;
    ``PaymentBusyError`` while a payment of it is being charged or captured;
    ``PaymentInFlightError`` when a payment completed at the gateway and its event
    has not been recorded yet (nothing moved; retry once it has).
    """
    repo, gateway = services.repo, services.gateway
    at = services.clock.now()
    order = await load_order(repo, ctx.tenant_id, order_id)
    if not order.can_change_to(OrderStatus.CANCELLED):
        order.cancel(reason, at, ctx.actor)  # raises the order's own refusal
    for payment in await load_payments(repo, await load_ledger(repo, order)):
        await check_not_completed(gateway, payment)

    async def decide() -> list[tuple[UUID, str]]:
        order = await load_order(repo, ctx.tenant_id, order_id)
        ledger = await load_ledger(repo, order)
        payments = await load_payments(repo, ledger)
        order.cancel(reason, at, ctx.actor)
        intents: list[tuple[UUID, str]] = []
        refunding = [p for p in payments if p.status not in _OPEN and _refunds_here(p)]
        total = sum((p.refundable for p in refunding), Money.zero(order.currency))
        held = needs_approval(ctx, payments, total)
        refunding_ids = {p.id for p in refunding}
        references: list[RefundReference] = []
        for payment in payments:
            if payment.status in _OPEN:
                intents.append((payment.id, payment.request_void(at).key))
            elif payment.id in refunding_ids:
                refund_id = intent_id(ctx, payment, "cancel-refund")
                if held:  # the cancel stands; the money waits for an admin (ADR 0020)
                    payment.request_refund_approval(
                        refund_id, payment.refundable, at, reason, ctx.actor
                    )
                    references.append(referenced(payment, refund_id))
                    continue
                effect = payment.request_refund(refund_id, payment.refundable, at, reason)
                intents.append((payment.id, effect.key))
        items = await _free_stock(repo, order, ledger, at)
        await repo.save(
            order,
            ledger,
            *payments,
            *references,
            *items,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        return intents

    intents = await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)
    for payment_id, key in intents:
        await run_effect(services, ctx, payment_id, key)
    return await load_order(repo, ctx.tenant_id, order_id)


def _refunds_here(payment: Payment) -> bool:
    # money taken by hand stays on the cancelled order until staff hand it back
    return payment.refundable.amount > 0 and refunds_at_gateway(payment)


async def _free_stock(
    repo: Repository, order: Order, ledger: OrderLedger, at: datetime
) -> list[StockItem]:
    """Releases the order's holds and puts back what it took from stock."""
    stock = await load_stock(repo, order.tenant_id, [line.sku for line in order.lines])
    released = release_lines(stock, order.id, at)
    restock = ledger.restockable()
    restored = put_back(stock, order.id, restock, at, order.fulfilment_plan)
    ledger.record_restocked(restock)
    return list({item.id: item for item in [*released, *restored]}.values())
