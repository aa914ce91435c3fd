"""Refund use cases: part or all of a payment, or of an order (across its payments).

A refund is checked on the payment (``refundable``: captured less refunds
succeeded or pending), on the order (``refundable``: paid less refunded) and,
with restock, on the order's ledger (units taken and not put back) before the
gateway is asked, so a refused refund moves no money and records nothing.
Then the gateway refunds under a key derived from the command (with our ids as
metadata, and reversing the transfer of a seller's payment: ``gateway_refunds``), and the payment,
the order, the ledger and any restocked stock items are saved in one append.

Restock puts units back at each SKU's first location: by default every unit
the order took from stock and has not put back yet, or the lines given.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from commerce_core.inventory.order_stock import load_stock, put_back
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.order import RefundExceedsPaidError
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.effects import run_effect
from commerce_core.payments.gateway_refunds import RefundedByHandError, refunds_at_gateway
from commerce_core.payments.loading import load_payment, load_payments
from commerce_core.payments.payment import Payment
from commerce_core.payments.refund_approvals import needs_approval, referenced
from commerce_core.payments.refund_effects import RefundResult, has_refund
from commerce_core.payments.refund_reference import RefundReference
from commerce_core.payments.results import as_money
from commerce_core.shared.command_ids import intent_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.refunds import RefundExceedsCapturedError
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict
from commerce_core.shared.values import SkuQuantity

__all__ = ["NothingToRefundError", "RefundOrder", "RefundResult", "refund_order", "refund_payment"]

_Plan = tuple[Payment, Money, UUID]  # a payment, how much of it to refund, the refund's id


class NothingToRefundError(DomainError):
    """The order has no paid money left to refund."""


class RefundOrder(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /orders/{id}/refund``: ``amount`` in minor units (default: all refundable),
    why, and whether to put units back in stock: ``restock`` puts back all it took,
    ``restock_lines`` (which imply ``restock``) those units only."""

    amount: int | Money | None = None
    reason: str | None = None
    restock: bool = False
    restock_lines: Sequence[SkuQuantity] | None = None


async def refund_payment(
    services: PaymentServices,
    ctx: CommandContext,
    payment_id: UUID,
    amount: int | Money,
    reason: str | None = None,
) -> RefundResult:
    """``POST /payments/{id}/refund``: sends ``amount`` (minor units) of a payment back.

    ``RefundExceedsCapturedError`` beyond what the payment has left to refund,
    ``InvalidTransitionError`` for a payment not captured (or disputed),
    ``RefundedByHandError`` for money taken by hand.
    """
    payment = await load_payment(services.repo, ctx.tenant_id, payment_id)
    refund_id = intent_id(ctx, payment, "refund")
    if has_refund(payment, refund_id):  # this command ran before: finish it if need be
        [result] = await _run(services, ctx, [(payment, payment.refundable, refund_id)])
        return result
    wanted = as_money(amount, payment.currency)
    assert wanted is not None
    plan = [(payment, wanted, refund_id)]
    [result] = await _refund(services, ctx, payment.order_id, plan, reason, [])
    return result


async def refund_order(
    services: PaymentServices, ctx: CommandContext, order_id: UUID, command: RefundOrder
) -> list[RefundResult]:
    """``POST /orders/{id}/refund``: sends ``amount`` (default: all refundable) back, from
    the order's payments oldest first; one refund per payment used (usually one).

    ``RefundExceedsPaidError`` beyond the order's paid less refunded;
    ``NothingToRefundError`` when that is zero; ``InvalidValueError`` when the
    restock lines exceed what the order took from stock and has not put back.
    """
    repo = services.repo
    order = await load_order(repo, ctx.tenant_id, order_id)
    ledger = await load_ledger(repo, order)
    payments = await load_payments(repo, ledger)
    done: list[_Plan] = [
        (p, p.refundable, refund_id)
        for p in payments
        if has_refund(p, refund_id := intent_id(ctx, p, "refund"))
    ]
    if done and ctx.idempotency_key is not None:  # this command ran before
        return await _run(services, ctx, done)
    if order.refundable.amount <= 0:
        raise NothingToRefundError(f"order {order.number} has no paid money left to refund")
    wanted = as_money(command.amount, order.currency) or order.refundable
    if wanted.amount <= 0:
        raise InvalidValueError("a refund amount must be positive")
    if wanted > order.refundable:
        raise RefundExceedsPaidError(wanted, order.refundable)
    plans = _spread(ctx, payments, wanted)
    lines = _lines_to_restock(command, ledger)
    return await _refund(services, ctx, order.id, plans, command.reason, lines)


def _lines_to_restock(command: RefundOrder, ledger: OrderLedger) -> list[SkuQuantity]:
    """Lines named are put back whether or not ``restock`` is said too (an empty list puts
    back nothing); ``restock`` alone puts back all the order took and still holds."""
    if command.restock_lines is not None:
        return list(command.restock_lines)
    return list(ledger.restockable()) if command.restock else []


def _spread(ctx: CommandContext, payments: list[Payment], wanted: Money) -> list[_Plan]:
    plans: list[_Plan] = []
    left = wanted
    for payment in payments:
        part = left.min(payment.refundable)
        if part.amount > 0:
            plans.append((payment, part, intent_id(ctx, payment, "refund")))
            left -= part
    if left.amount > 0:  # the rest is in refunds still pending at the gateway
        raise RefundExceedsCapturedError(wanted, wanted - left)
    return plans


async def _refund(
    services: PaymentServices,
    ctx: CommandContext,
    order_id: UUID,
    plans: list[_Plan],
    reason: str | None,
    restock: list[SkuQuantity],
) -> list[RefundResult]:
    """Records every refund of the plan as requested (with its gateway call, the intent),
    and the restock, in one append; then asks the gateway for each and records the
    outcomes. A refund that no longer fits when recorded (a concurrent refund took the
    money) is refused before any gateway call. One that takes the order's refunds above
    the caller's approval limit is recorded as awaiting approval instead, with no intent
    (``refund_approvals``); its restock is recorded at once: the goods are back whatever
    an admin decides about the money."""
    repo = services.repo
    at = services.clock.now()

    async def decide() -> None:
        order = await load_order(repo, ctx.tenant_id, order_id)
        ledger = await load_ledger(repo, order)
        current = {p.id: p for p in await load_payments(repo, ledger)}
        total = sum((amount for _, amount, _ in plans), Money.zero(order.currency))
        # read with the payments it will append to: a concurrent refund makes this lose
        held = needs_approval(ctx, current.values(), total)
        payments: list[Payment] = []
        references: list[RefundReference] = []
        for planned, amount, refund_id in plans:
            payment = current.get(planned.id) or await load_payment(repo, ctx.tenant_id, planned.id)
            if has_refund(payment, refund_id):
                return  # the same command, recorded concurrently
            if not refunds_at_gateway(payment):
                # Paid by hand, refunded by hand (manual-refund): refused before any payment
                # of the plan is refunded at the gateway.
                raise RefundedByHandError(payment)
            if held:
                payment.request_refund_approval(refund_id, amount, at, reason, ctx.actor)
                references.append(referenced(payment, refund_id))
            else:
                payment.request_refund(refund_id, amount, at, reason)
            order.record_refund(amount, at, refund_id, reason, ctx.actor)  # a check only
            payments.append(payment)
        order = await load_order(repo, ctx.tenant_id, order_id)  # the check's copy is dropped
        items: list[StockItem] = []
        if restock:
            ledger.check_restock(restock)
            stock = await load_stock(repo, ctx.tenant_id, [line.sku for line in restock])
            items = put_back(stock, order_id, restock, at, order.fulfilment_plan)
            ledger.record_restocked(restock)
        await repo.save(
            ledger,
            *payments,
            *references,
            *items,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )

    await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)
    return await _run(services, ctx, plans)


async def _run(
    services: PaymentServices, ctx: CommandContext, plans: list[_Plan]
) -> list[RefundResult]:
    """Makes the gateway calls of recorded refunds (those still open) and records them."""
    results: list[RefundResult] = []
    for planned, _, refund_id in plans:
        run = await run_effect(services, ctx, planned.id, f"{refund_id}:refund")
        if run.refused is not None and len(plans) == 1:
            raise run.refused
        results.append(RefundResult.of(run.payment, refund_id, run.attention))
    return results


def _still_restockable(ledger: OrderLedger, lines: list[SkuQuantity]) -> list[SkuQuantity]:
    left = {line.sku: line.quantity for line in ledger.restockable()}
    fits = [
        SkuQuantity(line.sku, min(line.quantity, left.get(line.sku, 0)))
        for line in lines
        if left.get(line.sku, 0) > 0
    ]
    return fits
