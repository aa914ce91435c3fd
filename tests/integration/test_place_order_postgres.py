"""Placing orders on PostgreSQL: three round trips in the core (the order number, one
read, the append), and concurrent placements of one tenant never share a number."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.keyring import MemoryKeyring
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.order_numbers import PostgresOrderNumbers
from commerce_core.catalog.services import PutProduct, put_product
from commerce_core.customers.services import (
    CustomerServices,
    RegisterCustomer,
    register_customer,
)
from commerce_core.eventstore import Repository
from commerce_core.inventory.services import ReceiveStock, receive_stock
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.ordering.order import Order
from commerce_core.ordering.services import CustomerRef, OrderServices, PlaceOrder, place_order
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.values import Sku, SkuQuantity
from tests.conftest import PgSchema

TENANT = "tenant-pg"
STAFF = CommandContext(tenant_id=TENANT, actor="staff-1")
_QUERIES = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@dataclass
class PgShop:
    services: OrderServices
    customer: CustomerRef
    pool: asyncpg.Pool

    async def place(self, *lines: tuple[str, int]) -> Order:
        command = PlaceOrder(
            customer=self.customer,
            lines=[SkuQuantity(Sku(sku), quantity) for sku, quantity in lines],
            currency="USD",
        )
        return await place_order(self.services, STAFF, command)


@pytest.fixture
async def shop(pg_schema: PgSchema) -> AsyncIterator[PgShop]:
    pool = await pg_schema.pool()
    repo, clock, ids, keyring = (
        Repository(PostgresEventStore(pool)),
        FixedClock(),
        RandomIds(),
        MemoryKeyring(),
    )
    for sku in ("MUG-1", "TEE-1", "CAP-1", "LAST-1"):
        product = PutProduct(sku=sku, name=sku.title(), price=Money(1000, "USD"))
        await put_product(repo, clock, STAFF, product)
        stock = 1 if sku == "LAST-1" else 100
        await receive_stock(repo, clock, STAFF, ReceiveStock(sku=sku, quantity=stock))
    customers = CustomerServices(repo=repo, keyring=keyring, clock=clock, ids=ids)
    customer = await register_customer(customers, STAFF, RegisterCustomer(email="a@example.com"))
    services = OrderServices(
        repo=repo, clock=clock, ids=ids, order_numbers=PostgresOrderNumbers(pool), keyring=keyring
    )
    try:
        yield PgShop(services, CustomerRef(id=customer.id), pool)
    finally:
        await pool.close()


def _counting(calls: list[str], name: str, original: Callable[..., Awaitable[Any]]) -> Any:
    async def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return await original(conn, *args, **kwargs)

    return counted


async def test_an_order_of_three_lines_is_three_round_trips(
    shop: PgShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    await shop.place(("MUG-1", 1))  # the tenant's order number sequence exists from here on
    calls: list[str] = []
    for name in _QUERIES:
        original = getattr(asyncpg.connection.Connection, name)
        monkeypatch.setattr(asyncpg.connection.Connection, name, _counting(calls, name, original))

    order = await shop.place(("MUG-1", 1), ("TEE-1", 2), ("CAP-1", 3))

    # nextval; the preload of products, stock, locations and customer; the append
    assert calls == ["fetchval", "fetch", "fetch"]
    assert order.number == "ORD-000002"


async def test_concurrent_placements_get_distinct_numbers(shop: PgShop) -> None:
    orders = await asyncio.gather(*(shop.place(("MUG-1", 1), ("TEE-1", 1)) for _ in range(12)))

    numbers = [order.number for order in orders]
    assert len(set(numbers)) == 12
    stored = await shop.pool.fetchval(
        "SELECT count(*) FROM events WHERE type LIKE '%Order.Placed%'"
    )
    assert stored == 12


async def test_buyers_racing_for_the_last_unit_one_wins_and_the_others_store_nothing(
    shop: PgShop,
) -> None:
    outcomes = await asyncio.gather(
        *(shop.place(("LAST-1", 1)) for _ in range(6)), return_exceptions=True
    )

    placed = [o for o in outcomes if isinstance(o, Order)]
    refused = [o for o in outcomes if isinstance(o, InsufficientStockError)]
    assert (len(placed), len(refused)) == (1, 5), outcomes
    stored = await shop.pool.fetchval(
        "SELECT count(*) FROM events WHERE type LIKE '%Order.Placed%'"
    )
    assert stored == 1
