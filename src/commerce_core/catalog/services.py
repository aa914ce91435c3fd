"""Catalog use cases: define or change a product, look products up for pricing."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from commerce_core.catalog.product import UNKNOWN_MEASURES, Measures, Product
from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.values import parse_sku


class UnknownProductError(LookupError):
    """An order names a SKU the tenant does not sell."""

    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown product {sku!r}")
        self.sku = sku


class PutProduct(msgspec.Struct, frozen=True, kw_only=True):
    """``PUT /products/{sku}``: the product ``sku`` as it should be."""

    sku: str
    name: str
    price: Money
    tax_rate_bps: int = 0
    measures: Measures = UNKNOWN_MEASURES


async def put_product(
    repo: Repository, clock: Clock, ctx: CommandContext, command: PutProduct
) -> Product:
    """Creates the product or changes it to these values (PUT semantics: measures left
    out become unknown). The SKU follows the rule orders check (``parse_sku``), so every
    product can be ordered."""
    parse_sku(command.sku)
    name, price, tax_rate_bps = command.name, command.price, command.tax_rate_bps
    try:
        product = await repo.get(Product.id_for(ctx.tenant_id, command.sku), kind=Product)
        product.change(name, price, tax_rate_bps, clock.now())
    except AggregateNotFoundError:
        product = Product.define(ctx.tenant_id, command.sku, name, price, tax_rate_bps, clock.now())
    product.measure(command.measures, clock.now())
    await repo.save(product, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
    return product


async def get_product(repo: Repository, tenant_id: str, sku: str) -> Product:
    try:
        return await repo.get(Product.id_for(tenant_id, sku), kind=Product)
    except AggregateNotFoundError:
        raise UnknownProductError(sku) from None


async def products_for(repo: Repository, tenant_id: str, skus: Iterable[str]) -> dict[str, Product]:
    """The tenant's products for these SKUs, loaded in one read; an unknown SKU raises
    ``UnknownProductError``."""
    ids = {sku: Product.id_for(tenant_id, sku) for sku in dict.fromkeys(skus)}
    found = await repo.get_many(list(ids.values()), kind=Product)
    for sku, product_id in ids.items():
        if product_id not in found:
            raise UnknownProductError(sku)
    return {sku: found[product_id] for sku, product_id in ids.items()}
