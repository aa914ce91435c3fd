"""Loading an order and its ledger, for one tenant only."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import Order
from commerce_core.shared.loading import load_owned


async def load_order(repo: Repository, tenant_id: str, order_id: UUID) -> Order:
    return await load_owned(repo, tenant_id, order_id, Order)


async def load_ledger(repo: Repository, order: Order) -> OrderLedger:
    """The order's ledger. ``place_order`` starts it with the order; for an order placed
    some other way a new one is started here, and saved with the next change."""
    try:
        return await repo.get(OrderLedger.id_for(order.id), kind=OrderLedger)
    except AggregateNotFoundError:
        return OrderLedger.start(order.tenant_id, order.id)


async def load_order_and_ledger(
    repo: Repository, tenant_id: str, order_id: UUID
) -> tuple[Order, OrderLedger]:
    """``load_order`` and ``load_ledger`` in one read."""
    ledger_id = OrderLedger.id_for(order_id)
    found: dict[UUID, Aggregate] = await repo.get_many([order_id, ledger_id])
    order = found.get(order_id)
    if not isinstance(order, Order) or order.tenant_id != tenant_id:
        raise AggregateNotFoundError(order_id, Order)
    ledger = found.get(ledger_id)
    if not isinstance(ledger, OrderLedger):
        ledger = OrderLedger.start(order.tenant_id, order.id)
    return order, ledger
