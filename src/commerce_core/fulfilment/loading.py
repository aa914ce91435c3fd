"""Loading a shipment, or every shipment of an order, for one tenant only."""

from __future__ import annotations

from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import Order
from commerce_core.shared.loading import load_owned


async def load_shipments(repo: Repository, order: Order) -> list[Shipment]:
    return [await repo.get(sid, kind=Shipment) for sid in order.shipment_ids]


async def get_shipment(repo: Repository, tenant_id: str, shipment_id: UUID) -> Shipment:
    return await load_owned(repo, tenant_id, shipment_id, Shipment)


async def order_shipments(repo: Repository, tenant_id: str, order_id: UUID) -> list[Shipment]:
    return await load_shipments(repo, await load_order(repo, tenant_id, order_id))
