"""The streams an order's stock and routing read, named without reading anything.

``load_stock`` reads each SKU's locations (``SkuLocations``) and then its stock items
there, and routing reads the tenant's locations (``StockLocations``): two reads after
one another. Placing an order loads them together with its products and customer in
one read (``eventstore.preloaded``), so the items' ids are guessed here: the item at
the default location, which is where a tenant that declared no locations keeps every
unit. The guess is checked, never trusted: ``load_stock`` still goes by the SKU's
locations, and reads what was not guessed (another location) in a read of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from commerce_core.inventory.location_book import StockLocations
from commerce_core.inventory.locations import SkuLocations
from commerce_core.inventory.stock import DEFAULT_LOCATION, StockItem


def order_stock_streams(tenant_id: str, skus: Iterable[str]) -> list[UUID]:
    """The tenant's location book, and each SKU's locations and default stock item."""
    return [StockLocations.id_for(tenant_id), *stock_streams(tenant_id, skus)]


def stock_streams(tenant_id: str, skus: Iterable[str]) -> list[UUID]:
    """Each SKU's locations and default stock item: what ``load_stock`` reads, guessed."""
    streams = []
    for sku in dict.fromkeys(skus):
        streams.append(SkuLocations.id_for(tenant_id, sku))
        streams.append(StockItem.id_for(tenant_id, sku, DEFAULT_LOCATION))
    return streams
