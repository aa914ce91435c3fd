"""Money reaching an order: it is paid, and then its stock is taken.

Two modes, for two kinds of caller:

- ``check_money_in`` runs **before** we ask the gateway to move money: it
  refuses (raises) what the order or the stock would refuse, so a refused
  command moves no money and records nothing.
- ``receive_money`` runs **after** the gateway moved money. Money that moved is
  a fact: the payment records it whatever happens here. If the order no longer
  takes it (cancelled or paid meanwhile) or its stock ran out, the problem is
  returned as a note for an operator (refund, restock) instead of raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.inventory.order_stock import load_stock, take_lines
from commerce_core.inventory.stock import InsufficientStockError, StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.shared.errors import DomainError
from commerce_core.shared.money import Money
from commerce_core.shared.values import SkuQuantity, check_aware


@dataclass(frozen=True)
class IncomingMoney:
    """Money a payment brought the order: the payment, how much, when, and who records it."""

    payment_id: UUID
    amount: Money
    at: datetime
    actor: str


def order_lines(order: Order) -> list[SkuQuantity]:
    return [SkuQuantity(line.sku, line.quantity) for line in order.lines]


async def check_money_in(
    repo: Repository, order: Order, payment_id: UUID, amount: Money, at: datetime
) -> None:
    """Raises what ``Order.mark_paid`` (and, if it would pay the order in full, taking
    its stock) would raise. Changes nothing: the stock is taken from a fresh load."""
    check_aware(at)
    if order.payment_settles(amount):
        stock = await load_stock(repo, order.tenant_id, [line.sku for line in order.lines])
        take_lines(stock, order.id, order_lines(order), at, order.fulfilment_plan)


async def take_order_stock(
    repo: Repository, order: Order, ledger: OrderLedger, at: datetime
) -> tuple[list[StockItem], str | None]:
    """Deducts the paid order's units; returns the changed items, or a note if stock ran out."""
    lines = order_lines(order)
    stock = await load_stock(repo, order.tenant_id, [line.sku for line in lines])
    try:
        items = take_lines(stock, order.id, lines, at, order.fulfilment_plan)
    except InsufficientStockError as short:
        return [], f"order {order.number} is paid but its stock ran out ({short})"
    ledger.record_taken(lines)
    return items, None


def owes_stock(order: Order, ledger: OrderLedger) -> bool:
    """The order is paid and its stock not taken yet (a take left for later: ADR 0046)."""
    return order.status is OrderStatus.PAID and not ledger.taken


async def receive_money(
    repo: Repository,
    order: Order,
    ledger: OrderLedger,
    money: IncomingMoney,
    take: bool = True,
) -> tuple[list[StockItem], str | None]:
    """Records ``money.amount`` paid on the order and takes its stock once it is paid in full
    (unless ``take`` is false: then the caller takes it later, see ``owes_stock``).

    Returns the stock items to save and a note when the order or the stock could not follow.
    """
    amount = money.amount
    if amount.is_zero:
        return [], None
    try:
        order.mark_paid(amount, money.payment_id, money.at, money.actor)
    except DomainError as refused:
        return [], f"order {order.number} did not take a payment of {amount} ({refused})"
    if order.status is not OrderStatus.PAID or not take:
        return [], None
    return await take_order_stock(repo, order, ledger, money.at)
