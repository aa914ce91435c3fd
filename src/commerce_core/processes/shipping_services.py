"""The ports of shipping, shared by the shipment and label use cases."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.connections import TenantCarriers
from commerce_core.fulfilment.label_documents import LabelDocuments
from commerce_core.fulfilment.tracking import TrackedParcels
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.ports.keyring import Keyring


@dataclass(frozen=True, kw_only=True)
class ShippingServices:
    """The repository, the clock, ids for new shipments, each tenant's carriers (that
    sell labels), the keyring that opens the address to print on one and seals the
    label bought, where label documents are kept, and the parcels tracked (``None``:
    labels bought are not watched, as in tests of labels alone)."""

    repo: Repository
    clock: Clock
    ids: Ids
    carriers: TenantCarriers
    keyring: Keyring
    labels: LabelDocuments
    parcels: TrackedParcels | None = None
