"""Products: what is sold and at which price. Prices come from here, never from clients."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from commerce_core.shared.bounds import MAX_UNIT_PRICE, check_at_most
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money

_PRODUCT_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/products")


def check_tax_rate(tax_rate_bps: int) -> None:
    if not 0 <= tax_rate_bps <= 10_000:
        raise InvalidValueError("tax_rate_bps must be between 0 and 10000")


def check_price(price: Money) -> None:
    if price.is_negative:
        raise InvalidValueError("a price cannot be negative")
    check_at_most("price", price.amount, MAX_UNIT_PRICE)


class Product(Aggregate):
    """One SKU of one tenant. Its id derives from (tenant, sku), so it is found without a lookup."""

    tenant_id: str
    sku: str
    name: str
    price: Money
    tax_rate_bps: int
    updated_at: datetime

    @staticmethod
    def id_for(tenant_id: str, sku: str) -> UUID:
        return uuid5(_PRODUCT_NAMESPACE, f"{tenant_id}/{sku}")

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
