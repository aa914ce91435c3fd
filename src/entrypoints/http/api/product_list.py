"""GET /products: the catalog, one page at a time, ordered by SKU."""

from __future__ import annotations

from datetime import datetime

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from commerce_core.projections.ports.lists import ProductSummary
from entrypoints.http.api import cursors
from entrypoints.http.api.customer_list import CursorQuery, Limit
from entrypoints.http.api.schemas import MoneyOut
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import query_problems
from entrypoints.http.services import Services, tenant_of


class ProductItemOut(msgspec.Struct):
    sku: str
    name: str
    price: MoneyOut
    tax_rate_bps: int
    updated_at: datetime

    @classmethod
    def of(cls, product: ProductSummary) -> ProductItemOut:
        return cls(
            product.sku,
            product.name,
            MoneyOut(product.price, product.currency),
            product.tax_rate_bps,
            product.updated_at,
        )


class ProductListOut(msgspec.Struct):
    items: list[ProductItemOut]
    next_cursor: str | None


class ProductListController(Controller):
    path = "/products"
    tags = ["catalog"]

    @get("/", summary="List products", responses=query_problems())
    async def list_products(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        cursor: CursorQuery = None,
    ) -> ProductListOut:
        """The tenant's products ordered by SKU, as `PUT /products/{sku}` last set them
        (a read model: it may lag a change by a moment). Every tenant role; changes nothing."""
        page = await services.list_queries.products(
            tenant_of(principal), limit, cursors.decode(cursor, str)
        )
        return ProductListOut(
            [ProductItemOut.of(p) for p in page.items], cursors.encode(page.next_cursor)
        )
