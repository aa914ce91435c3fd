"""One SKU rule: what orders refuse, the catalog and stock refuse too, recording nothing."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.clock import FixedClock
from adapters.memory.eventstore import MemoryEventStore
from commerce_core.catalog.services import PutProduct, put_product
from commerce_core.eventstore import START, Repository
from commerce_core.inventory.services import ReceiveStock, receive_stock
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import SKU_PATTERN, SkuQuantity, parse_sku

CTX = CommandContext(tenant_id="acme", actor="key:1")
REFUSED = ["sp ace", "x" * 300, "", "-lead", "a/b", "é", "a\nb"]


def _refused_by_orders(sku: str) -> bool:
    try:
        msgspec.json.decode(msgspec.json.encode({"sku": sku, "quantity": 1}), type=SkuQuantity)
    except msgspec.ValidationError:
        return True
    return False


async def _refused_by_catalog_and_stock(sku: str) -> tuple[bool, bool]:
    repo = Repository(MemoryEventStore())
    refused = []
    for command in (
        put_product(repo, FixedClock(), CTX, PutProduct(sku=sku, name="x", price=Money(1, "USD"))),
        receive_stock(repo, FixedClock(), CTX, ReceiveStock(sku=sku, quantity=1)),
    ):
        try:
            await command
            refused.append(False)
        except InvalidValueError:
            refused.append(True)
    if all(refused):
        assert await repo.store.read_all(START) == []
    return refused[0], refused[1]


@pytest.mark.parametrize("sku", REFUSED)
async def test_skus_orders_refuse_are_refused_by_the_catalog_and_stock(sku: str) -> None:
    assert _refused_by_orders(sku)
    assert await _refused_by_catalog_and_stock(sku) == (True, True)


@given(st.one_of(st.text(max_size=80), st.from_regex(SKU_PATTERN)))
def test_catalog_stock_and_orders_agree_on_every_sku(sku: str) -> None:
    by_orders = _refused_by_orders(sku)
    assert asyncio.run(_refused_by_catalog_and_stock(sku)) == (by_orders, by_orders)
    if not by_orders:
        assert parse_sku(sku) == sku
