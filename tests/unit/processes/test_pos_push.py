"""The push of orders to a POS and the status mirror both ways (ADR 0040), on the fake
POS and in-memory stores: once per order and per change, intent first, echoes ignored."""

from __future__ import annotations

import itertools
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory.pos import FakePos
from commerce_core.catalog.services import PutProduct, put_product
from commerce_core.channels.ports import (
    PosFulfilmentState,
    PosOrderDraft,
    PosRefusedError,
    PosUnavailableError,
    PushedOrder,
)
from commerce_core.channels.pos_push import PosPush, PushState, pos_push_id
from commerce_core.inventory.services import ReceiveStock, receive_stock
from commerce_core.ordering.order import OrderStatus
from commerce_core.processes.order_status import change_order_status
from commerce_core.processes.pos_push import push_orders
from commerce_core.shared.context import CommandContext
from commerce_core.shared.loading import find_owned
from commerce_core.shared.money import Money
from tests.unit.processes.test_pos_sync import World
from tests.unit.shop import Shop


class KilledError(Exception):
    """The process died right after the POS answered."""


class CountingPos(FakePos):
    """The fake POS, counting what it is asked; ``kill_after_push`` loses the answer of
    the next push as a killed process would; ``down`` answers nothing."""

    def __init__(self, shop: Shop) -> None:
        super().__init__(shop.clock)
        self.pushes: list[str] = []
        self.updates: list[tuple[str, PosFulfilmentState]] = []
        self.kill_after_push = False
        self.down = False
        self.refuse = False
        self.conflicts = 0

    async def push_order(self, draft: PosOrderDraft, *, idempotency_key: str) -> PushedOrder:
        if self.down:
            raise PosUnavailableError("503")
        if self.refuse:
            raise PosRefusedError("no such location", "NOT_FOUND")
        self.pushes.append(idempotency_key)
        made = await super().push_order(draft, idempotency_key=idempotency_key)
        if self.kill_after_push:
            self.kill_after_push = False
            raise KilledError
        return made

    async def update_fulfilment(
        self, external_id: str, state: PosFulfilmentState, *, idempotency_key: str
    ) -> PushedOrder:
        self.updates.append((idempotency_key, state))
        if self.conflicts:
            self.conflicts -= 1
            raise PosRefusedError("the order changed since it was read", "VERSION_MISMATCH")
        return await super().update_fulfilment(external_id, state, idempotency_key=idempotency_key)


async def _world() -> tuple[World, CountingPos]:
    world = World()
    pos = CountingPos(world.shop)
    world.pos = pos
    await world.product("TEE", 5)
    await world.connect()
    return world, pos


async def _round(world: World) -> None:
    connection = await world.connections.get(world.tenant, "fake")
    assert connection is not None
    await push_orders(world.services, connection, world.pos)


async def _web_order(world: World, paid: bool = True) -> UUID:
    order = await world.shop.place(("TEE", 1), ctx=world.ctx)
    if paid:
        await world.shop.charge(order.id, ctx=world.ctx)
    return order.id


async def _push(world: World, order_id: UUID) -> PosPush | None:
    push_id = pos_push_id(str(world.tenant), "fake", order_id)
    return await find_owned(world.shop.repo, str(world.tenant), push_id, PosPush)


async def test_a_web_order_is_pushed_once_at_its_location() -> None:
    world, pos = await _world()
    order_id = await _web_order(world)

    await _round(world)
    await _round(world)

    [pushed] = pos.orders.values()
    assert pushed.reference_id == str(order_id)
    assert pushed.location_id == "L1"
    assert pushed.fulfilment is PosFulfilmentState.PROPOSED
    assert len(pos.pushes) == 1
    assert pos.updates == []  # paid shows as proposed, which it already is
    push = await _push(world, order_id)
    assert push is not None
    assert (push.state, push.external_id) == (PushState.PUSHED, pushed.external_id)


async def test_a_process_killed_between_the_call_and_the_record_makes_no_second_order() -> None:
    world, pos = await _world()
    order_id = await _web_order(world)
    pos.kill_after_push = True

    with pytest.raises(KilledError):
        await _round(world)
    push = await _push(world, order_id)
    assert push is not None
    assert push.state is PushState.REQUESTED  # the intent was recorded before the call
    await _round(world)

    assert len(pos.orders) == 1
    assert pos.pushes == [push.key, push.key]  # asked again with the same key
    push = await _push(world, order_id)
    assert push is not None
    assert push.state is PushState.PUSHED


async def test_a_down_pos_keeps_the_checkpoint_and_the_next_round_pushes() -> None:
    world, pos = await _world()
    await _web_order(world)
    pos.down = True
    with pytest.raises(PosUnavailableError):
        await _round(world)
    connection = await world.connections.get(world.tenant, "fake")
    assert connection is not None
    assert connection.sync.push_position is None
    pos.down = False

    await _round(world)

    assert len(pos.orders) == 1


async def test_a_refused_push_is_recorded_and_the_round_goes_on() -> None:
    world, pos = await _world()
    refused_id = await _web_order(world)
    pos.refuse = True
    await _round(world)
    pos.refuse = False
    await _web_order(world)
    await _round(world)

    push = await _push(world, refused_id)
    assert push is not None
    assert push.state is PushState.REFUSED
    assert push.last_error == "no such location"
    assert len(pos.orders) == 1  # the next order went through


async def test_our_status_changes_are_mirrored_once_each_and_their_echo_is_nothing() -> None:
    world, pos = await _world()
    order_id = await _web_order(world)
    await _round(world)
    [external_id] = pos.orders

    await change_order_status(world.shop.payment_services, world.ctx, order_id, "processing")
    await _round(world)
    await _round(world)
    assert [state for _, state in pos.updates] == [PosFulfilmentState.RESERVED]
    assert pos.orders[external_id].fulfilment is PosFulfilmentState.RESERVED

    await world.sync()  # the pull brings our own change back: nothing happens
    order = await world.shop.order(order_id)
    assert order.status is OrderStatus.PROCESSING
    assert await world.orders() == []  # never imported as a POS order


async def test_a_change_at_the_till_comes_back_once_and_is_not_pushed_back() -> None:
    world, pos = await _world()
    order_id = await _web_order(world)
    await _round(world)
    [external_id] = pos.orders

    pos.move_fulfilment(external_id, PosFulfilmentState.PREPARED)
    await world.sync()
    await world.sync()
    await _round(world)

    order = await world.shop.order(order_id)
    assert order.status is OrderStatus.READY_FOR_SHIPMENT
    assert [change.status for change in order.status_history].count(
        OrderStatus.READY_FOR_SHIPMENT
    ) == 1
    assert pos.updates == []  # the echo of the till's change is not sent back


async def test_a_cancellation_at_the_till_is_recorded_but_moves_no_money() -> None:
    world, pos = await _world()
    order_id = await _web_order(world)
    await _round(world)
    [external_id] = pos.orders

    pos.move_fulfilment(external_id, PosFulfilmentState.CANCELED)
    await world.sync()

    order = await world.shop.order(order_id)
    assert order.status is OrderStatus.PAID  # a person cancels and refunds here
    push = await _push(world, order_id)
    assert push is not None
    assert push.pos_state is PosFulfilmentState.CANCELED


async def test_pos_orders_other_tenants_and_forged_references_are_not_pushed_or_moved() -> None:
    world, pos = await _world()
    sale = pos.ring_up("L1", [("TEE", 1, Money(500, "USD"))])
    await world.sync()  # a POS sale: our order on channel pos, never pushed back
    other = CommandContext(tenant_id=str(uuid4()), actor="staff")
    defined = PutProduct(sku="TEE", name="Tee", price=Money(500, "USD"))
    await put_product(world.shop.repo, world.shop.clock, other, defined)
    receipt = ReceiveStock(sku="TEE", quantity=3, location_id="main")
    await receive_stock(world.shop.repo, world.shop.clock, other, receipt)
    await world.shop.place(("TEE", 1), ctx=other)  # another tenant's order: not ours to push
    victim = await _web_order(world)
    await _round(world)
    assert [o.reference_id for o in pos.orders.values() if o.reference_id] == [str(victim)]

    # a till order claiming to be ours, made by hand at the till, moves nothing
    forged = pos.ring_up("L1", [("TEE", 1, Money(500, "USD"))])
    pos.orders[forged.external_id] = pos._change(
        pos.orders[forged.external_id],
        reference_id=str(victim),
        fulfilment=PosFulfilmentState.PREPARED,
        version=5,
    )
    await world.sync()
    assert (await world.shop.order(victim)).status is OrderStatus.PAID
    assert {o.metadata["pos_order_id"] for o in await world.orders()} == {
        sale.external_id,
        forged.external_id,
    }  # both are till sales, imported with their stock taken


@settings(max_examples=20, deadline=None)
@given(
    steps=st.lists(
        st.sampled_from(["round", "pull", "processing", "ready", "till-prepared", "till-reserved"]),
        min_size=1,
        max_size=10,
    )
)
async def test_whatever_the_interleaving_one_pos_order_and_no_repeated_change(
    steps: list[str],
) -> None:
    world, pos = await _world()
    order_id = await _web_order(world)
    for step in steps:
        if step == "round":
            await _round(world)
        elif step == "pull":
            await world.sync()
        elif step in ("processing", "ready"):
            target = "processing" if step == "processing" else "ready_for_shipment"
            order = await world.shop.order(order_id)
            if order.can_change_to(OrderStatus(target)):
                await change_order_status(world.shop.payment_services, world.ctx, order_id, target)
        elif pos.orders:
            [external_id] = pos.orders
            state = PosFulfilmentState(step.removeprefix("till-"))
            pos.move_fulfilment(external_id, state)
    await _round(world)

    assert len(pos.orders) == 1
    assert len(set(pos.pushes)) == 1
    keys = [key for key, _ in pos.updates]
    states = [state for _, state in pos.updates]
    assert len(set(keys)) == len(keys)  # each change asked once (a key per change)
    assert all(a != b for a, b in itertools.pairwise(states))  # no repeats
    order = await world.shop.order(order_id)
    history = [change.status for change in order.status_history]
    assert len(set(history)) == len(history)  # no ping-pong: never the same status twice


async def test_an_order_placed_before_the_connection_is_not_pushed_after_the_fact() -> None:
    world = World()
    pos = CountingPos(world.shop)
    world.pos = pos
    await world.product("TEE", 5)
    before = await _web_order(world)
    world.shop.clock.advance(timedelta(minutes=1))
    await world.connect()
    after = await _web_order(world)
    world.shop.clock.advance(timedelta(minutes=1))
    await world.connect()  # stored again: the first connection's time still counts

    await _round(world)

    assert [o.reference_id for o in pos.orders.values()] == [str(after)]
    assert await _push(world, before) is None


async def test_a_version_conflict_at_the_pos_is_asked_again_with_the_same_key() -> None:
    world, pos = await _world()
    order_id = await _web_order(world)
    await _round(world)
    await change_order_status(world.shop.payment_services, world.ctx, order_id, "processing")
    pos.conflicts = 1

    with pytest.raises(PosUnavailableError):
        await _round(world)
    await _round(world)

    [external_id] = pos.orders
    assert pos.orders[external_id].fulfilment is PosFulfilmentState.RESERVED
    [(first, _), (again, _)] = pos.updates
    assert first == again


async def test_a_till_sale_with_a_reference_of_its_own_is_imported_as_a_sale() -> None:
    world, pos = await _world()
    order_id = await _web_order(world)
    sale = pos.ring_up("L1", [("TEE", 1, Money(500, "USD"))])
    pos.orders[sale.external_id] = pos._change(
        pos.orders[sale.external_id], reference_id="table-7", version=7
    )

    await world.sync()

    [imported] = await world.orders()  # its stock taken like any till sale
    assert imported.status is OrderStatus.PAID
    assert (await world.shop.order(order_id)).status is OrderStatus.PAID
    assert await world.on_hand("TEE") == 3  # 5, less the web order and the till sale


async def test_our_order_at_the_pos_before_its_id_is_recorded_is_never_imported() -> None:
    world, pos = await _world()
    await _web_order(world)
    pos.kill_after_push = True
    with pytest.raises(KilledError):
        await _round(world)

    await world.sync()  # the pull sees our order before the push's outcome is recorded

    assert await world.orders() == []
    await _round(world)
    assert len(pos.orders) == 1
