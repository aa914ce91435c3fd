"""Catalog and stock: PUT /products/{sku}, POST /inventory/{sku}/receipts, GET /inventory/{sku}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get, post, put
from litestar.di import NamedDependency

from commerce_core.catalog.product import MAX_SIDE_MM, MAX_WEIGHT_GRAMS, Measures, Product
from commerce_core.catalog.services import PutProduct, UnknownProductError, put_product
from commerce_core.catalog.services import get_product as load_product
from commerce_core.eventstore import Repository
from commerce_core.inventory.services import (
    ReceiveStock,
    StockLevels,
    receive_stock,
    stock_levels,
)
from commerce_core.inventory.stock import DEFAULT_LOCATION
from commerce_core.shared.context import CommandContext
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import parse_sku
from entrypoints.http.api import examples
from entrypoints.http.api.schemas import MoneyIn, MoneyOut, PositiveQuantity, SkuPath
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of

Grams = Annotated[int, msgspec.Meta(gt=0, le=MAX_WEIGHT_GRAMS, description="grams")]
Side = Annotated[int, msgspec.Meta(gt=0, le=MAX_SIDE_MM, description="millimetres")]


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    """Weight and dimensions are optional; left out, they are unknown (a basket with a
    product of unknown weight gets no carrier-priced or weight-limited shipping)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    price: MoneyIn
    tax_rate_bps: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    weight_grams: Grams | None = None
    length_mm: Side | None = None
    width_mm: Side | None = None
    height_mm: Side | None = None

    def measures(self) -> Measures:
        return Measures(
            weight_grams=self.weight_grams,
            length_mm=self.length_mm,
            width_mm=self.width_mm,
            height_mm=self.height_mm,
        )


class ProductOut(msgspec.Struct):
    sku: str
    name: str
    price: MoneyOut
    tax_rate_bps: int
    updated_at: datetime
    weight_grams: int | None
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        measures = product.measures
        return cls(
            product.sku,
            product.name,
            MoneyOut.of(product.price),
            product.tax_rate_bps,
            product.updated_at,
            measures.weight_grams,
            measures.length_mm,
            measures.width_mm,
            measures.height_mm,
        )


class ReceiptIn(msgspec.Struct, forbid_unknown_fields=True):
    quantity: PositiveQuantity
    location_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = DEFAULT_LOCATION


class StockAtLocationOut(msgspec.Struct):
    location_id: str
    on_hand: int
    reserved: int
    available: int


class StockOut(msgspec.Struct):
    sku: str
    on_hand: int
    reserved: int
    available: int
    locations: list[StockAtLocationOut]

    @classmethod
    def of(cls, levels: StockLevels) -> StockOut:
        locations = [
            StockAtLocationOut(loc.location_id, loc.on_hand, loc.reserved, loc.available)
            for loc in levels.locations
        ]
        return cls(levels.sku, levels.on_hand, levels.reserved, levels.available, locations)


async def get_product(repo: Repository, tenant_id: str, sku: str) -> Product:
    """The product, or 404 not-found: here the SKU is the resource itself. A SKU no
    product may have is 422 (``parse_sku``: the path's pattern lets a final newline by)."""
    parse_sku(sku)
    try:
        return await load_product(repo, tenant_id, sku)
    except UnknownProductError:
        raise problem(404, "not-found", f"no product {sku!r}") from None


class CatalogController(Controller):
    tags = ["catalog"]

    @put(
        "/products/{sku:str}",
        summary="Create or change a product",
        status_code=200,
        responses=command_problems("concurrency-conflict"),
    )
    async def put_product(
        self,
        sku: SkuPath,
        data: Annotated[ProductIn, examples.PRODUCT],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> ProductOut:
        """Creates or changes a product; its price is what orders will charge, its
        ``weight_grams`` what shipping quotes weigh (left out: unknown)."""
        command = PutProduct(
            sku=sku,
            name=data.name,
            price=data.price.to_money(),
            tax_rate_bps=data.tax_rate_bps,
            measures=data.measures(),
        )
        product = await retry_on_conflict(
            lambda: put_product(services.repo, services.clock, ctx, command)
        )
        return ProductOut.of(product)

    @get("/products/{sku:str}", summary="Show a product", responses=query_problems("not-found"))
    async def get_product(
        self,
        sku: SkuPath,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> ProductOut:
        """The product: its name, the price orders charge, its tax rate. Changes nothing."""
        return ProductOut.of(await get_product(services.repo, tenant_of(principal), sku))

    @post(
        "/inventory/{sku:str}/receipts",
        summary="Receive stock",
        status_code=201,
        responses=command_problems("not-found", "concurrency-conflict"),
    )
    async def receive(
        self,
        sku: SkuPath,
        data: Annotated[ReceiptIn, examples.RECEIPT],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> StockOut:
        """Units arrived at a location (default location unless named). The SKU must exist."""
        await get_product(services.repo, ctx.tenant_id, sku)
        command = ReceiveStock(sku=sku, quantity=data.quantity, location_id=data.location_id)
        levels = await retry_on_conflict(
            lambda: receive_stock(services.repo, services.clock, ctx, command)
        )
        return StockOut.of(levels)

    @get("/inventory/{sku:str}", summary="Show stock levels", responses=query_problems("not-found"))
    async def stock(
        self,
        sku: SkuPath,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> StockOut:
        """On hand, reserved (live reservations only) and available, in total and per location."""
        tenant = tenant_of(principal)
        await get_product(services.repo, tenant, sku)
        levels = await stock_levels(services.repo, tenant, sku, services.clock.now())
        return StockOut.of(levels)
