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
from commerce_core.payments.gateway_refunds import refund_at_gateway, refunds_at_gateway
from commerce_core.payments.loading import load_payment, load_payments
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.gateway import GatewayRefund
from commerce_core.payments.refund_effects import (
    RefundRequest,
    RefundResult,
    apply_refund,
    has_refund,
)
from commerce_core.payments.results import as_money
from commerce_core.shared.command_ids import effect_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError, InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.refunds import RefundExceedsCapturedError
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import SkuQuantity

__all__ = ["NothingToRefundError", "RefundOrder", "RefundResult", "refund_order", "refund_payment"]

_Plan = tuple[Payment, Money, UUID]  # a payment, how much of it to refund, the refund's id


class NothingToRefundError(DomainError):
    """The order has no paid money left to refund."""


class RefundOrder(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /orders/{id}/refund``: ``amount`` in minor units (default: all refundable),
    why, and whether to put units back in stock (``restock_lines``, default all it took)."""

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
    ``InvalidTransitionError`` for a payment not captured (or disputed).
    """
    payment = await load_payment(services.repo, ctx.tenant_id, payment_id)
    refund_id = effect_id(ctx, payment, "refund")
    if has_refund(payment, refund_id):
        return RefundResult.of(payment, refund_id)
    wanted = as_money(amount, payment.currency)
    assert wanted is not None
    plan = [(payment, wanted, refund_id)]
    [result] = await _refund(services, ctx, payment.order_id, plan, reason, [])
    return result


async def refund_order(
    services: PaymentServices, ctx: CommandContext, order_id: UUID, command: RefundOrder
) -> list[RefundResult]:
    """``POST /orders/{id}/refund``: sends ``command.amount`` (default: all refundable) back,
    from the order's payments oldest first; one refund per payment used (usually one).

    ``RefundExceedsPaidError`` beyond the order's paid less refunded;
    ``NothingToRefundError`` when that is zero; ``InvalidValueError`` when the
    restock lines exceed what the order took from stock and has not put back.
    """
    repo = services.repo
    order = await load_order(repo, ctx.tenant_id, order_id)
    ledger = await load_ledger(repo, order)
    payments = await load_payments(repo, ledger)
    done = [
        RefundResult.of(p, refund_id)
        for p in payments
        if has_refund(p, refund_id := effect_id(ctx, p, "refund"))
    ]
    if done and ctx.idempotency_key is not None:
        return done  # this command ran before
    if order.refundable.amount <= 0:
        raise NothingToRefundError(f"order {order.number} has no paid money left to refund")
    wanted = as_money(command.amount, order.currency) or order.refundable
    if wanted.amount <= 0:
        raise InvalidValueError("a refund amount must be positive")
    if wanted > order.refundable:
        raise RefundExceedsPaidError(wanted, order.refundable)
    plans = _spread(ctx, payments, wanted)
    lines = list(command.restock_lines or ledger.restockable()) if command.restock else []
    return await _refund(services, ctx, order.id, plans, command.reason, lines)


def _spread(ctx: CommandContext, payments: list[Payment], wanted: Money) -> list[_Plan]:
    plans: list[_Plan] = []
    left = wanted
    for payment in payments:
        part = left.min(payment.refundable)
        if part.amount > 0:
            plans.append((payment, part, effect_id(ctx, payment, "refund")))
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
    repo, gateway = services.repo, services.gateway
    at = services.clock.now()
    # Checks, on loaded copies that are then dropped: what the domain would refuse.
    order = await load_order(repo, ctx.tenant_id, order_id)
    for planned, amount, refund_id in plans:
        payment = await load_payment(repo, ctx.tenant_id, planned.id)
        payment.refund(refund_id, amount, at, reason)
        order.record_refund(amount, at, refund_id, reason, ctx.actor)
        if not refunds_at_gateway(payment):
            # Paid by hand, refunded by hand (manual-refund): refused before any payment
            # of the plan is refunded at the gateway.
            raise InvalidTransitionError("payment", payment.status, "refunded")
    (await load_ledger(repo, order)).check_restock(restock)

    answers: list[GatewayRefund] = []
    for payment, amount, refund_id in plans:
        answers.append(await refund_at_gateway(gateway, payment, amount, refund_id, reason))

    async def record() -> list[RefundResult]:
        order = await load_order(repo, ctx.tenant_id, order_id)
        ledger = await load_ledger(repo, order)
        results: list[RefundResult] = []
        changed: list[Payment] = []
        for (planned, amount, refund_id), answer in zip(plans, answers, strict=True):
            payment = await load_payment(repo, ctx.tenant_id, planned.id)
            note = None
            if not has_refund(payment, refund_id):
                request = RefundRequest(refund_id, amount, reason, at, ctx.actor)
                note = apply_refund(payment, order, ledger, request, answer)
                changed.append(payment)
            results.append(RefundResult.of(payment, refund_id, note))
        items: list[StockItem] = []
        lines = _still_restockable(ledger, restock)  # a concurrent restock may have taken some
        if lines:
            stock = await load_stock(repo, ctx.tenant_id, [line.sku for line in lines])
            items = put_back(stock, order_id, lines, at)
            ledger.record_restocked(lines)
        await repo.save(
            order,
            ledger,
            *changed,
            *items,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        return results

    return await retry_on_conflict(record)


def _still_restockable(ledger: OrderLedger, lines: list[SkuQuantity]) -> list[SkuQuantity]:
    left = {line.sku: line.quantity for line in ledger.restockable()}
    fits = [
        SkuQuantity(line.sku, min(line.quantity, left.get(line.sku, 0)))
        for line in lines
        if left.get(line.sku, 0) > 0
    ]
    return fits
