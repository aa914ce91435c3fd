"""The product list: one row per product, for `GET /products` (ordered by SKU).

Only the definition names the SKU, so a row is keyed by the product's stream id
(itself derived from tenant and SKU) and the SKU is a column with its own index.
"""

from __future__ import annotations

from typing import Any

from commerce_core.catalog.product import Product
from commerce_core.eventstore import RecordedEvent
from commerce_core.projections.changes import Change, Upsert
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

Events: Any = Product  # the event classes are made by the @event decorator at run time

TABLE = "product_list"

PRODUCT_LIST_TABLE = TableSpec(
    TABLE,
    key=("tenant_id", "product_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("product_id", "uuid"),
        Column("sku", "text"),
        Column("name", "text"),
        Column("price", "int", default=0),
        Column("currency", "text"),
        Column("tax_rate_bps", "int", default=0),
        Column("updated_at", "timestamptz"),
    ],
    indexes=[Index(("tenant_id", "sku"), unique=True)],
)


class ProductList(Projection):
    """A product's name, price and tax rate as its last definition or change set them."""

    name = "product_list"
    version = 1
    tables = (PRODUCT_LIST_TABLE,)
    _wanted = topics(Events.Defined, Events.Changed)

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        e: Any = decoded
        if not isinstance(e, (Events.Defined, Events.Changed)):
            return []
        values = {
            "name": e.name,
            "price": e.price.amount,
            "currency": e.price.currency,
            "tax_rate_bps": e.tax_rate_bps,
            "updated_at": e.at,
        }
        if isinstance(e, Events.Defined):
            values["sku"] = e.sku
        key = {"tenant_id": event.metadata.tenant_id, "product_id": event.stream_id}
        return [Upsert(TABLE, key, values)]
