"""The refund approvals list: a row per refund that needed approval, following its decision."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from adapters.memory.readmodel import MemoryReadModel
from commerce_core.payments.refund_approvals import approve_refund, reject_refund
from commerce_core.projections.refund_approvals import RefundApprovals, list_refund_approvals
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.context import CommandContext
from tests.unit.shop import STAFF, TENANT, Shop

LIMITED = dataclasses.replace(STAFF, refund_approval_above=0)  # every refund waits
ADMIN = CommandContext(tenant_id=TENANT, actor="admin-1")


async def projected(shop: Shop) -> MemoryReadModel:
    read_model = MemoryReadModel()
    async with ProjectionRunner(shop.store, read_model, [RefundApprovals()]) as runner:
        await runner.wait_for(RefundApprovals.name, await shop.store.head())
    return read_model


async def test_held_refunds_are_listed_oldest_first_in_pages_and_follow_decisions() -> None:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    order = await shop.place(("MUG-1", 3))
    await shop.charge(order.id)
    held = []
    for _ in range(3):
        held += await shop.refund_order(order.id, 100, ctx=LIMITED)
        shop.clock.advance(timedelta(minutes=1))
    await approve_refund(shop.payment_services, ADMIN, held[0].id)
    await reject_refund(shop.payment_services, ADMIN, held[1].id, "not returned")

    read_model = await projected(shop)

    waiting = await list_refund_approvals(read_model, TENANT, "pending_approval", 50, None)
    assert [(r.id, r.amount, r.order_id) for r in waiting.items] == [(held[2].id, 100, order.id)]
    assert waiting.next_cursor is None
    everything = await list_refund_approvals(read_model, TENANT, None, 2, None)
    assert [(r.id, r.status) for r in everything.items] == [
        (held[0].id, "approved"),
        (held[1].id, "rejected"),
    ]
    assert everything.items[1].rejection == "not returned"
    assert everything.items[0].decided_by == "admin-1"
    assert everything.items[0].requested_by == STAFF.actor
    rest = await list_refund_approvals(read_model, TENANT, None, 2, everything.next_cursor)
    assert ([r.id for r in rest.items], rest.next_cursor) == ([held[2].id], None)
    assert (await list_refund_approvals(read_model, "tenant-2", None, 50, None)).items == []
