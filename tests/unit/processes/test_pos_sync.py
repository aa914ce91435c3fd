"""The pull of POS orders (ADR 0037) on the fake POS and in-memory stores: idempotent
imports, refunds at the till, oversells, backoff and the dead-letter state."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.pos import FakePos
from adapters.memory.pos_connections import MemoryPosConnections
from commerce_core.catalog.services import PutProduct, put_product
from commerce_core.channels.connections import (
    MAX_FAILURES,
    ConnectPos,
    PosDetails,
    PosName,
    PosSecrets,
    SyncState,
    connect_pos,
)
from commerce_core.channels.ports import (
    PointOfSale,
    PosOrderPage,
    PosOrderState,
    PosUnavailableError,
)
from commerce_core.inventory.services import ReceiveStock, receive_stock, stock_levels
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.payments.fees import FeeSchedule
from commerce_core.processes.pos_orders import PosImportServices, pos_order_id
from commerce_core.processes.pos_sync import pull_connection, sync_due, sync_pos
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from tests.unit.shop import Shop


class World:
    def __init__(self) -> None:
        self.shop = Shop()
        self.tenant = uuid4()
        self.ctx = CommandContext(tenant_id=str(self.tenant), actor="staff")
        self.connections = MemoryPosConnections(bytes(32))
        self.pos = FakePos(self.shop.clock)
        self.broken: PointOfSale | None = None

    @property
    def services(self) -> PosImportServices:
        async def fees(tenant_id: str) -> FeeSchedule:
            return FeeSchedule(basis_points=0)

        return PosImportServices(
            repo=self.shop.repo,
            clock=self.shop.clock,
            order_numbers=self.shop.numbers,
            keyring=self.shop.keyring,
            connections=self.connections,
            fees=fees,
        )

    async def pos_for(self, _connection: object) -> PointOfSale:
        return self.broken or self.pos

    async def product(self, sku: str, stock: int) -> None:
        defined = PutProduct(sku=sku, name=sku, price=Money(500, "USD"))
        await put_product(self.shop.repo, self.shop.clock, self.ctx, defined)
        if stock:
            receipt = ReceiveStock(sku=sku, quantity=stock, location_id="main")
            await receive_stock(self.shop.repo, self.shop.clock, self.ctx, receipt)

    async def connect(self) -> None:
        command = ConnectPos(
            pos=PosName.FAKE, details=PosDetails(location_map={"L1": "main"}), secrets=PosSecrets()
        )
        await connect_pos(self.connections, self.shop.clock, self.tenant, command)

    async def sync(self) -> None:
        await sync_pos(self.services, self.pos_for, self.tenant, "fake")

    async def on_hand(self, sku: str) -> int:
        levels = await stock_levels(self.shop.repo, str(self.tenant), sku, self.shop.clock.now())
        return levels.on_hand

    def order_id(self, external_id: str) -> UUID:
        return pos_order_id(str(self.tenant), "fake", external_id)

    async def orders(self) -> list[Order]:
        ids = [self.order_id(e) for e in self.pos.orders]
        found = await self.shop.repo.get_many(ids, kind=Order)
        return [order for order in found.values() if order is not None]

    async def state(self) -> SyncState:
        connection = await self.connections.get(self.tenant, "fake")
        assert connection is not None
        return connection.state()


class DownPos:
    name = "down"

    async def pull_orders(self, **_: object) -> PosOrderPage:
        raise PosUnavailableError("square answered 503")


async def test_a_refund_at_the_till_is_recorded_once() -> None:
    world = World()
    await world.product("TEE", 5)
    await world.connect()
    sale = world.pos.ring_up("L1", [("TEE", 2, Money(500, "USD"))])
    await world.sync()
    refunded = world.pos._change(
        world.pos.orders[sale.external_id], refunded=Money(500, "USD"), version=2
    )
    await world.sync()
    world.pos._store(refunded)  # the same version delivered again
    await world.sync()

    order = await load_order(world.shop.repo, str(world.tenant), world.order_id(sale.external_id))
    assert order.refunded == Money(500, "USD")
    assert order.paid == Money(1000, "USD")


async def test_a_failing_pos_backs_off_then_is_dead_lettered_until_stored_again() -> None:
    world = World()
    await world.connect()
    world.broken = DownPos()  # type: ignore[assignment]
    connection = await world.connections.get(world.tenant, "fake")
    assert connection is not None
    with pytest.raises(PosUnavailableError):
        await pull_connection(world.services, connection, DownPos())  # type: ignore[arg-type]
    failed = await world.connections.get(world.tenant, "fake")
    assert failed is not None
    assert failed.state() is SyncState.BACKING_OFF
    assert failed.sync.last_error == "square answered 503"
    assert failed.sync.next_attempt_at == world.shop.clock.now() + timedelta(seconds=30)
    assert not failed.due(world.shop.clock.now())
    assert await sync_due(world.services, world.pos_for) == 0  # not due: not even asked

    for _ in range(MAX_FAILURES):
        world.shop.clock.advance(timedelta(hours=2))
        await sync_due(world.services, world.pos_for)
    assert await world.state() is SyncState.DEAD_LETTER
    world.shop.clock.advance(timedelta(days=1))
    world.broken = None
    assert await sync_due(world.services, world.pos_for) == 0  # dead: the background skips it

    await world.connect()  # stored again: pulled again
    assert await world.state() is SyncState.ACTIVE
    assert await sync_due(world.services, world.pos_for) == 1


@settings(max_examples=25, deadline=None)
@given(
    stock=st.integers(0, 6),
    sales=st.lists(st.integers(1, 3), min_size=1, max_size=5),
    repeats=st.lists(st.integers(0, 4), min_size=1, max_size=4),
)
async def test_every_sale_is_one_order_or_one_oversell_whatever_the_repeats(
    stock: int, sales: list[int], repeats: list[int]
) -> None:
    world = World()
    await world.product("TEE", stock)
    await world.connect()
    ids = [world.pos.ring_up("L1", [("TEE", n, Money(500, "USD"))]).external_id for n in sales]
    await world.sync()
    for cursor in repeats:  # an older cursor: those orders come again (at least once)
        connection = await world.connections.get(world.tenant, "fake")
        assert connection is not None
        await world.connections.applied(world.tenant, "fake", str(cursor), world.shop.clock.now())
        await world.sync()

    taken, left = 0, stock
    expected_oversold = set()
    for external_id, n in zip(ids, sales, strict=True):
        if n <= left:  # sales are imported oldest first: each takes what is left
            left, taken = left - n, taken + n
        else:
            expected_oversold.add(external_id)
    oversold = {key[2] for key in world.connections.oversells}
    assert oversold == expected_oversold
    assert await world.on_hand("TEE") == stock - taken
    for external_id in set(ids) - oversold:
        order = await load_order(world.shop.repo, str(world.tenant), world.order_id(external_id))
        assert order.status is OrderStatus.PAID
    numbers = {o.number for o in await world.orders()}
    assert len(numbers) == len(ids) - len(oversold)  # one order per sale, however often pulled


async def test_a_sale_our_bounds_refuse_is_flagged_and_the_pull_goes_on() -> None:
    world = World()
    await world.product("TEE", 5)
    await world.connect()
    huge = world.pos.ring_up("L1", [("TEE", 2_000_000, Money(500, "USD"))])
    fine = world.pos.ring_up("L1", [("TEE", 1, Money(500, "USD"))])

    await world.sync()

    [oversell] = world.connections.oversells.values()
    assert oversell.external_id == huge.external_id
    assert "not importable" in oversell.detail
    order = await load_order(world.shop.repo, str(world.tenant), world.order_id(fine.external_id))
    assert order.status is OrderStatus.PAID
    assert await world.on_hand("TEE") == 4


async def test_an_open_ticket_paid_later_at_the_till_is_paid_once_and_takes_its_stock() -> None:
    world = World()
    await world.product("TEE", 5)
    await world.connect()
    sale = world.pos.ring_up("L1", [("TEE", 2, Money(500, "USD"))])
    paid = world.pos.orders[sale.external_id]
    world.pos._change(paid, tenders=[], state=PosOrderState.OPEN)
    await world.sync()
    order_id = world.order_id(sale.external_id)
    assert (await load_order(world.shop.repo, str(world.tenant), order_id)).status is (
        OrderStatus.PENDING_PAYMENT
    )
    assert await world.on_hand("TEE") == 5  # held, not taken

    world.pos._change(paid, version=3)  # paid at the till
    await world.sync()
    world.pos._change(paid, version=4)  # and delivered again
    await world.sync()

    order = await load_order(world.shop.repo, str(world.tenant), order_id)
    assert order.status is OrderStatus.PAID
    assert order.paid == Money(1000, "USD")
    assert await world.on_hand("TEE") == 3
