"""``GET /orders/{id}``: an order with its payments and shipments, read across three contexts."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.ordering.loading import load_order_and_ledger
from commerce_core.ordering.order import Order
from commerce_core.payments.payment import Payment

A = TypeVar("A", bound=Aggregate)


async def load_order_detail(
    repo: Repository, tenant_id: str, order_id: UUID
) -> tuple[Order, list[Payment], list[Shipment]]:
    """The order, its payments and its shipments in at most two reads: the order with
    its ledger, then the payments and shipments they name, together."""
    order, ledger = await load_order_and_ledger(repo, tenant_id, order_id)
    wanted = [*ledger.payment_ids, *order.shipment_ids]
    if not wanted:
        return order, [], []
    found: dict[UUID, Aggregate] = await repo.get_many(wanted)
    payments = [_found(found, pid, Payment) for pid in ledger.payment_ids]
    return order, payments, [_found(found, sid, Shipment) for sid in order.shipment_ids]


def _found(found: dict[UUID, Aggregate], aggregate_id: UUID, kind: type[A]) -> A:
    """The ledger and the order name only aggregates saved with them: one missing (or
    of another kind) is an error, as loading it alone would raise."""
    aggregate = found.get(aggregate_id)
    if not isinstance(aggregate, kind):
        raise AggregateNotFoundError(aggregate_id, kind)
    return aggregate
