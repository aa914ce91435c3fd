"""Cancelling an order: void what is authorized, refund what is captured, free the stock.

The gateway is asked first (voids and refunds, under keys derived from the
command), then the order, its payments, its ledger and every touched stock
item are saved in one append: the order ``Cancelled`` and a
``RefundRecorded`` per succeeded refund (a refund of a cancelled order keeps
it ``cancelled``), payments voided or refunded, reservations released, and
units the order had taken from stock (it was paid) put back. If a gateway call
fails nothing is recorded, and running the command again repeats the same
gateway requests (same keys), so nothing moves twice.

Only card payments go back through the gateway. Money taken by hand (a bank
transfer, cash) stays recorded on the cancelled order until staff hand it back
(``POST /payments/{id}/manual-refund``): the gateway does not know it.
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
from commerce_core.payments.gateway_refunds import refund_at_gateway, refunds_at_gateway
from commerce_core.payments.loading import load_payments
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.gateway import GatewayPayment, GatewayRefund, PaymentGateway
from commerce_core.payments.refund_effects import RefundRequest, apply_refund, has_refund
from commerce_core.payments.voids import apply_void, void_at_gateway
from commerce_core.shared.command_ids import effect_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError
from commerce_core.shared.retry import retry_on_conflict

_OPEN = (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED)


async def cancel_order(
    services: PaymentServices, ctx: CommandContext, order_id: UUID, reason: str | None = None
) -> Order:
    """``POST /orders/{id}/cancel``: the order as cancelled.

    Refused with ``InvalidTransitionError`` (recording nothing, calling no gateway)
    once anything shipped, or when the order is cancelled already;
    ``PaymentInFlightError`` when a payment completed at the gateway and its event
    has not been recorded yet (nothing moved; retry once it has).
    """
    repo, gateway = services.repo, services.gateway
    order = await load_order(repo, ctx.tenant_id, order_id)
    at = services.clock.now()
    if not order.can_change_to(OrderStatus.CANCELLED):
        order.cancel(reason, at, ctx.actor)  # raises the order's own refusal
    payments = await load_payments(repo, await load_ledger(repo, order))
    voids: dict[UUID, GatewayPayment | None] = {}
    refunds: dict[UUID, tuple[RefundRequest, GatewayRefund]] = {}
    # Voids first: one the gateway refuses (the payment completed meanwhile) stops the
    # command before any money moved back.
    for payment in payments:
        if payment.status in _OPEN:
            voids[payment.id] = await void_at_gateway(gateway, payment)
    for payment in payments:
        # money taken by hand stays on the cancelled order until staff hand it back
        if payment.refundable.amount > 0 and refunds_at_gateway(payment):
            refunds[payment.id] = await _refund_all(gateway, ctx, payment, reason, at)

    async def record() -> Order:
        order = await load_order(repo, ctx.tenant_id, order_id)
        ledger = await load_ledger(repo, order)
        payments = await load_payments(repo, ledger)
        refused: DomainError | None = None
        try:
            order.cancel(reason, at, ctx.actor)
        except DomainError as error:
            refused = error  # changed meanwhile (shipped?): the money still moved, record it
        for payment in payments:
            if payment.id in voids:
                apply_void(payment, voids[payment.id], at)
            if payment.id in refunds:
                request, answer = refunds[payment.id]
                if not has_refund(payment, request.refund_id):
                    apply_refund(payment, order, ledger, request, answer)
        items = [] if refused else await _free_stock(repo, order, ledger, at)
        await repo.save(
            order,
            ledger,
            *payments,
            *items,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        if refused is not None:
            raise refused
        return order

    return await retry_on_conflict(record)


async def _free_stock(
    repo: Repository, order: Order, ledger: OrderLedger, at: datetime
) -> list[StockItem]:
    """Releases the order's holds and puts back what it took from stock."""
    stock = await load_stock(repo, order.tenant_id, [line.sku for line in order.lines])
    released = release_lines(stock, order.id, at)
    restock = ledger.restockable()
    restored = put_back(stock, order.id, restock, at)
    ledger.record_restocked(restock)
    return list({item.id: item for item in [*released, *restored]}.values())


async def _refund_all(
    gateway: PaymentGateway,
    ctx: CommandContext,
    payment: Payment,
    reason: str | None,
    at: datetime,
) -> tuple[RefundRequest, GatewayRefund]:
    amount = payment.refundable
    refund_id = effect_id(ctx, payment, "cancel-refund")
    answer = await refund_at_gateway(gateway, payment, amount, refund_id, reason)
    return RefundRequest(refund_id, amount, reason, at, ctx.actor), answer
