"""``GET /shipments/{id}/packing-slip``: a shipment's lines with the order's product names
and the address opened for printing (an erased customer's is not, and the slip says so)."""

from __future__ import annotations

from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.packing_slip import PackingSlip, PackingSlipLine
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.ordering.loading import load_order
from commerce_core.shared.loading import load_owned
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.shared.sealing import unseal
from commerce_core.shared.values import Address


async def packing_slip(
    repo: Repository, keyring: Keyring, tenant_id: str, shipment_id: UUID
) -> PackingSlip:
    shipment = await load_owned(repo, tenant_id, shipment_id, Shipment)
    order = await load_order(repo, tenant_id, shipment.order_id)
    names = {line.sku: line.name for line in order.lines}
    ship_to = await unseal(keyring, order.shipping_address, "shipping_address", Address)
    return PackingSlip(
        order_number=order.number,
        shipment_id=str(shipment.id),
        created_at=shipment.created_at,
        lines=[
            PackingSlipLine(sku=line.sku, name=names.get(line.sku, ""), quantity=line.quantity)
            for line in shipment.lines
        ],
        ship_to=ship_to,
        ship_to_erased=ship_to is None and order.shipping_address is not None,
        carrier=shipment.carrier,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
    )
