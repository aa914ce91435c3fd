"""Catalog: products are defined and changed by PUT; prices come only from here."""

from __future__ import annotations

import msgspec
import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.eventstore import MemoryEventStore
from commerce_core.catalog.services import (
    PutProduct,
    UnknownProductError,
    get_product,
    products_for,
    put_product,
)
from commerce_core.eventstore import START, Repository
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money

CTX = CommandContext(tenant_id="acme", actor="key:1")


@pytest.fixture
def repo() -> Repository:
    return Repository(MemoryEventStore())


async def test_putting_a_new_sku_defines_the_product(repo: Repository) -> None:
    mug = PutProduct(sku="MUG-1", name="Mug", price=Money(1200, "USD"), tax_rate_bps=825)
    await put_product(repo, FixedClock(), CTX, mug)

    product = await get_product(repo, "acme", "MUG-1")
    assert (product.name, product.price, product.tax_rate_bps) == ("Mug", Money(1200, "USD"), 825)


async def test_putting_the_same_values_again_records_nothing(repo: Repository) -> None:
    clock = FixedClock()
    mug = PutProduct(sku="MUG-1", name="Mug", price=Money(1200, "USD"))
    await put_product(repo, clock, CTX, mug)
    await put_product(repo, clock, CTX, mug)
    await put_product(repo, clock, CTX, msgspec.structs.replace(mug, price=Money(1500, "USD")))

    product = await get_product(repo, "acme", "MUG-1")
    assert product.version == 2
    assert product.price == Money(1500, "USD")


async def test_products_are_per_tenant(repo: Repository) -> None:
    mug = PutProduct(sku="MUG-1", name="Mug", price=Money(1200, "USD"))
    await put_product(repo, FixedClock(), CTX, mug)

    with pytest.raises(UnknownProductError):
        await get_product(repo, "other-tenant", "MUG-1")
    with pytest.raises(UnknownProductError):
        await products_for(repo, "acme", ["MUG-1", "NOPE"])


@pytest.mark.parametrize(
    ("name", "price", "tax"),
    [("", Money(1, "USD"), 0), ("Mug", Money(-1, "USD"), 0), ("Mug", Money(1, "USD"), 10_001)],
)
async def test_refuses_bad_products(repo: Repository, name: str, price: Money, tax: int) -> None:
    mug = PutProduct(sku="MUG-1", name=name, price=price, tax_rate_bps=tax)
    with pytest.raises(InvalidValueError):
        await put_product(repo, FixedClock(), CTX, mug)
    assert await repo.store.read_all(START) == []
