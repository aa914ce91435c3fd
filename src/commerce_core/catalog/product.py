"""Products: what is sold and at which price. Prices come from here, never from clients."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from commerce_core.shared.bounds import MAX_UNIT_PRICE, check_at_most
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.stream_ids import derived_id

_PRODUCT_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/products")


def check_tax_rate(tax_rate_bps: int) -> None:
    if not 0 <= tax_rate_bps <= 10_000:
        raise InvalidValueError("tax_rate_bps must be between 0 and 10000")


MAX_WEIGHT_GRAMS = 1_000_000
"""A product weighs at most 1,000 kg."""
MAX_SIDE_MM = 10_000
"""A product's length, width or height: at most 10 m."""


class Measures(msgspec.Struct, frozen=True, kw_only=True):
    """What a product weighs (grams) and measures (millimetres); ``None``: unknown."""

    weight_grams: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None

    def __post_init__(self) -> None:
        if self.weight_grams is not None and not 0 < self.weight_grams <= MAX_WEIGHT_GRAMS:
            raise InvalidValueError(f"weight_grams is 1 to {MAX_WEIGHT_GRAMS}")
        for side in ("length_mm", "width_mm", "height_mm"):
            value = getattr(self, side)
            if value is not None and not 0 < value <= MAX_SIDE_MM:
                raise InvalidValueError(f"{side} is 1 to {MAX_SIDE_MM}")


UNKNOWN_MEASURES = Measures()


def check_price(price: Money) -> None:
    if price.is_negative:
        raise InvalidValueError("a price cannot be negative")
    check_at_most("price", price.amount, MAX_UNIT_PRICE)


class Product(Aggregate):
    """One SKU of one tenant. Its id derives from (tenant, sku), so it is found without a lookup.
    Its weight and dimensions are recorded apart (``Measured``), only when given."""

    # 2: ``measures``. Snapshots of 1 predate weights: their products are unmeasured.
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["measures"] = {}

    tenant_id: str
    sku: str
    name: str
    price: Money
    tax_rate_bps: int
    measures: Measures
    updated_at: datetime

    @staticmethod
    def id_for(tenant_id: str, sku: str) -> UUID:
        return derived_id(_PRODUCT_NAMESPACE, f"{tenant_id}/{sku}")

    @classmethod
    def define(
        cls, tenant_id: str, sku: str, name: str, price: Money, tax_rate_bps: int, at: datetime
    ) -> Product:
        check_tax_rate(tax_rate_bps)
        check_price(price)
        if not name.strip():
            raise InvalidValueError("a product needs a name")
        return cls(
            id=cls.id_for(tenant_id, sku),
            tenant_id=tenant_id,
            sku=sku,
            name=name,
            price=price,
            tax_rate_bps=tax_rate_bps,
            at=at,
        )

    @event("Defined")
    def __init__(
        self,
        id: UUID,
        tenant_id: str,
        sku: str,
        name: str,
        price: Money,
        tax_rate_bps: int,
        at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.sku = sku
        self.name = name
        self.price = price
        self.tax_rate_bps = tax_rate_bps
        self.measures = UNKNOWN_MEASURES
        self.updated_at = at

    @property
    def weight_grams(self) -> int | None:
        return self.measures.weight_grams

    def measure(self, measures: Measures, at: datetime) -> None:
        """Records new measures only if they differ (absent ones become unknown)."""
        if measures != self.measures:
            self._measured(measures, at)

    @event("Measured")
    def _measured(self, measures: Measures, at: datetime) -> None:
        self.measures = measures
        self.updated_at = at

    def change(self, name: str, price: Money, tax_rate_bps: int, at: datetime) -> None:
        """Records a change only if something differs (PUT is idempotent)."""
        check_tax_rate(tax_rate_bps)
        check_price(price)
        if (name, price, tax_rate_bps) != (self.name, self.price, self.tax_rate_bps):
            self._changed(name, price, tax_rate_bps, at)

    @event("Changed")
    def _changed(self, name: str, price: Money, tax_rate_bps: int, at: datetime) -> None:
        self.name = name
        self.price = price
        self.tax_rate_bps = tax_rate_bps
        self.updated_at = at
