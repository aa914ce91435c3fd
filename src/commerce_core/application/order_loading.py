"""Loading an order and what belongs to it, for one tenant only.

An aggregate of another tenant is reported as not found
(``AggregateNotFoundError``), exactly like one that does not exist.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from commerce_core.domain.order import Order
from commerce_core.domain.order_ledger import OrderLedger
from commerce_core.domain.payment import Payment
from commerce_core.domain.shipment import Shipment
from commerce_core.eventstore import AggregateNotFoundError, Repository

A = TypeVar("A", bound=Aggregate)


async def load_owned(repo: Repository, tenant_id: str, aggregate_id: UUID, kind: type[A]) -> A:
    """The aggregate, if it is a ``kind`` of ``tenant_id``; otherwise ``AggregateNotFoundError``."""
    aggregate = await repo.get(aggregate_id, kind=kind)
    if getattr(aggregate, "tenant_id", None) != tenant_id:
        raise AggregateNotFoundError(aggregate_id)
    return aggregate


async def find_owned(
    repo: Repository, tenant_id: str, aggregate_id: UUID, kind: type[A]
) -> A | None:
    try:
        return await load_owned(repo, tenant_id, aggregate_id, kind)
    except AggregateNotFoundError:
        return None


async def load_order(repo: Repository, tenant_id: str, order_id: UUID) -> Order:
    return await load_owned(repo, tenant_id, order_id, Order)


async def load_ledger(repo: Repository, order: Order) -> OrderLedger:
    """The order's ledger. ``place_order`` starts it with the order; for an order placed
    some other way a new one is started here, and saved with the next change."""
    try:
        return await repo.get(OrderLedger.id_for(order.id), kind=OrderLedger)
    except AggregateNotFoundError:
        return OrderLedger.start(order.tenant_id, order.id)


async def load_payment(repo: Repository, tenant_id: str, payment_id: UUID) -> Payment:
    return await load_owned(repo, tenant_id, payment_id, Payment)


async def load_payments(repo: Repository, ledger: OrderLedger) -> list[Payment]:
    """Every payment attempt of the order, oldest first."""
    return [await repo.get(pid, kind=Payment) for pid in ledger.payment_ids]


async def load_shipments(repo: Repository, order: Order) -> list[Shipment]:
    return [await repo.get(sid, kind=Shipment) for sid in order.shipment_ids]


async def load_order_detail(
    repo: Repository, tenant_id: str, order_id: UUID
) -> tuple[Order, list[Payment], list[Shipment]]:
    """``GET /orders/{id}``: the order, its payments and its shipments, the order loaded once."""
    order = await load_order(repo, tenant_id, order_id)
    payments = await load_payments(repo, await load_ledger(repo, order))
    return order, payments, await load_shipments(repo, order)
