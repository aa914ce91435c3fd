"""``GET /orders/{id}``: an order with its payments and shipments, read across three contexts."""

from __future__ import annotations

from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.loading import load_shipments
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.order import Order
from commerce_core.payments.loading import load_payments
from commerce_core.payments.payment import Payment


async def load_order_detail(
    repo: Repository, tenant_id: str, order_id: UUID
) -> tuple[Order, list[Payment], list[Shipment]]:
    """The order, its payments and its shipments, the order loaded once."""
    order = await load_order(repo, tenant_id, order_id)
    payments = await load_payments(repo, await load_ledger(repo, order))
    return order, payments, await load_shipments(repo, order)
