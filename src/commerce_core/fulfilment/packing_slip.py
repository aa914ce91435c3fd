"""A packing slip: what goes in one parcel and where it goes, for the warehouse."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import msgspec

from commerce_core.shared.values import Address


class PackingSlipLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    name: str
    quantity: int


class PackingSlip(msgspec.Struct, frozen=True, kw_only=True):
    """``ship_to`` is None when the order had no address or its customer was erased
    (``ship_to_erased``): the slip says so instead of printing one."""

    order_number: str
    shipment_id: str
    created_at: datetime
    lines: list[PackingSlipLine]
    ship_to: Address | None
    ship_to_erased: bool
    carrier: str
    service: str | None = None
    tracking_number: str | None = None


class PackingSlipRenderer(Protocol):
    """Renders a packing slip as a printable PDF: lines, quantities, the address and
    the order number, as text and as a barcode a scanner reads."""

    def render(self, slip: PackingSlip) -> bytes: ...
