"""Charging on PostgreSQL: five round trips in the core (ADR 0047), counted so that they
cannot silently grow again: two reads for the decision (the order and its ledger; then
its payments and stock), the intent's append, the answer's append, the take's append."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.keyring import MemoryKeyring
from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.order_numbers import PostgresOrderNumbers
from commerce_core.catalog.services import PutProduct, put_product
from commerce_core.customers.services import (
    CustomerServices,
    RegisterCustomer,
    register_customer,
)
from commerce_core.eventstore import Repository
from commerce_core.inventory.services import ReceiveStock, receive_stock, stock_levels
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.ordering.services import CustomerRef, OrderServices, PlaceOrder, place_order
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.services import OpenPayment, PaymentResult, charge_payment
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.values import Sku, SkuQuantity
from tests.conftest import PgSchema

TENANT = "tenant-pg-charge"
STAFF = CommandContext(tenant_id=TENANT, actor="staff-1")
FEES = FeeSchedule(basis_points=300)
_QUERIES = ("execute", "executemany", "fetch", "fetchrow", "fetchval")


@dataclass
class PgShop:
    orders: OrderServices
    payments: PaymentServices
    customer: CustomerRef
    pool: asyncpg.Pool

    async def place(self, *lines: tuple[str, int]) -> Order:
        command = PlaceOrder(
            customer=self.customer,
            lines=[SkuQuantity(Sku(sku), quantity) for sku, quantity in lines],
            currency="USD",
        )
        return await place_order(self.orders, STAFF, command)

    async def charge(self, order_id: UUID, ctx: CommandContext = STAFF) -> PaymentResult:
        command = OpenPayment(order_id=order_id, token="tok_visa", gateway_name="fake")
        return await charge_payment(self.payments, ctx, command, FEES)

    async def on_hand(self, sku: str) -> int:
        levels = await stock_levels(self.orders.repo, TENANT, sku, self.orders.clock.now())
        return levels.on_hand


@pytest.fixture
async def shop(pg_schema: PgSchema) -> AsyncIterator[PgShop]:
    pool = await pg_schema.pool()
    repo, clock, ids, keyring = (
        Repository(PostgresEventStore(pool)),
        FixedClock(),
        RandomIds(),
        MemoryKeyring(),
    )
    for sku in ("MUG-1", "TEE-1", "CAP-1"):
        product = PutProduct(sku=sku, name=sku.title(), price=Money(1000, "USD"))
        await put_product(repo, clock, STAFF, product)
        await receive_stock(repo, clock, STAFF, ReceiveStock(sku=sku, quantity=100))
    customers = CustomerServices(repo=repo, keyring=keyring, clock=clock, ids=ids)
    customer = await register_customer(customers, STAFF, RegisterCustomer(email="a@example.com"))
    orders = OrderServices(
        repo=repo, clock=clock, ids=ids, order_numbers=PostgresOrderNumbers(pool), keyring=keyring
    )
    payments = PaymentServices(repo=repo, gateway=FakePaymentGateway(), clock=clock, ids=ids)
    try:
        yield PgShop(orders, payments, CustomerRef(id=customer.id), pool)
    finally:
        await pool.close()


def _counting(calls: list[str], name: str, original: Callable[..., Awaitable[Any]]) -> Any:
    async def counted(conn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"{name} {' '.join(str(args[0]).split())[:12]}")
        return await original(conn, *args, **kwargs)

    return counted


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every query sent to PostgreSQL from here on (statement preparations are not counted:
    asyncpg prepares once per connection and statement)."""
    seen: list[str] = []
    for name in _QUERIES:
        original = getattr(asyncpg.connection.Connection, name)
        monkeypatch.setattr(asyncpg.connection.Connection, name, _counting(seen, name, original))
    return seen


READ, APPEND = "fetch WITH snap AS", "fetch WITH gaps AS"


async def test_a_charge_of_three_lines_is_five_round_trips(shop: PgShop, calls: list[str]) -> None:
    order = await shop.place(("MUG-1", 1), ("TEE-1", 2), ("CAP-1", 3))
    calls.clear()

    result = await shop.charge(order.id)

    # the order and ledger; its payments and stock; intent; answer; take and close
    assert calls == [READ, READ, APPEND, APPEND, APPEND]
    assert result.payment.captured == Money(6000, "USD")
    assert (await shop.on_hand("TEE-1"), await shop.on_hand("CAP-1")) == (98, 97)


async def test_a_keyed_charge_is_five_round_trips_and_its_repeat_one_read(
    shop: PgShop, calls: list[str]
) -> None:
    order = await shop.place(("MUG-1", 2))
    keyed = CommandContext(tenant_id=TENANT, actor="staff-1", idempotency_key="charge-1")
    calls.clear()

    first = await shop.charge(order.id, keyed)
    trips = list(calls)
    calls.clear()
    again = await shop.charge(order.id, keyed)

    assert trips == [READ, READ, APPEND, APPEND, APPEND]  # the key's payment: in the first read
    assert calls == [READ]  # found by the first read: nothing decided, asked or appended
    assert again.payment.id == first.payment.id
    assert shop.payments.gateway.payment_count == 1  # type: ignore[attr-defined]
    assert await shop.on_hand("MUG-1") == 98
    stored = await shop.pool.fetchval(
        "SELECT count(*) FROM events WHERE type LIKE '%Order.PaymentRecorded%'"
    )
    assert stored == 1


def _during_the_gateway_call(shop: PgShop, act: Callable[[], Awaitable[object]]) -> None:
    gateway = shop.payments.gateway
    assert isinstance(gateway, FakePaymentGateway)
    charge = gateway.charge

    async def charge_after_act(*args: Any, **kwargs: Any) -> Any:
        await act()
        return await charge(*args, **kwargs)

    gateway.charge = charge_after_act  # type: ignore[method-assign]


async def test_a_charge_whose_stock_another_buyer_held_during_the_gateway_call_reads_it_again(
    shop: PgShop, calls: list[str]
) -> None:
    order = await shop.place(("MUG-1", 1))
    _during_the_gateway_call(shop, lambda: shop.place(("MUG-1", 4)))  # in this process's turn
    calls.clear()

    result = await shop.charge(order.id)

    assert result.payment.captured == Money(1000, "USD")
    assert (await shop.orders.repo.get(order.id, kind=Order)).status is OrderStatus.PAID
    levels = await stock_levels(shop.orders.repo, TENANT, "MUG-1", shop.orders.clock.now())
    assert (levels.on_hand, levels.available) == (99, 95)  # taken once; the other 4 held
    # a turn of the SKU ended since the decision's read: the take read the item afresh
    # instead of losing a race with the copy read before the gateway call
    assert calls.count(APPEND) == 1 + 3  # the other order's; the charge's three


async def test_a_charge_whose_stock_another_process_changed_takes_it_once(
    shop: PgShop, calls: list[str]
) -> None:
    order = await shop.place(("MUG-1", 1))
    repo = shop.orders.repo

    async def receipt_elsewhere() -> None:  # not in this process's turns: unseen here
        item = await repo.get(StockItem.id_for(TENANT, "MUG-1"), kind=StockItem)
        item.receive(10, shop.orders.clock.now())
        await repo.save(item, metadata=STAFF.metadata())

    _during_the_gateway_call(shop, receipt_elsewhere)
    calls.clear()

    result = await shop.charge(order.id)

    assert result.payment.captured == Money(1000, "USD")
    assert (await repo.get(order.id, kind=Order)).status is OrderStatus.PAID
    levels = await stock_levels(repo, TENANT, "MUG-1", shop.orders.clock.now())
    assert (levels.on_hand, levels.available) == (109, 109)  # 100 + 10 - 1, taken once
    # the take's first append lost its race on the stale copy; the retry read it afresh
    assert calls.count(APPEND) == 1 + 3 + 1  # the receipt's; the charge's three; the lost one
