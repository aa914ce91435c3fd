"""``load_order_detail`` (GET /orders/{id}): the order, its payments and its shipments in
at most two reads of the store, for the order's own tenant only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import pytest

from commerce_core.eventstore import AggregateNotFoundError
from commerce_core.processes.order_detail import load_order_detail
from commerce_core.processes.shipping import CreateShipment, create_shipment
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.shop import STAFF, TENANT, Shop


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", stock=5)
    await shop.product("TEE-M", stock=5)
    return shop


def count_reads(shop: Shop) -> list[int]:
    """Counts the store's stream loads (one round trip each in PostgreSQL)."""
    reads = [0]
    load_streams = shop.store.load_streams

    async def counted(stream_ids: Sequence[UUID], *args: Any, **kwargs: Any) -> Any:
        reads[0] += 1
        return await load_streams(stream_ids, *args, **kwargs)

    shop.store.load_streams = counted  # type: ignore[method-assign]
    return reads


async def test_an_unpaid_order_is_one_read(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    reads = count_reads(shop)

    found, payments, shipments = await load_order_detail(shop.repo, TENANT, order.id)

    assert (found.id, payments, shipments) == (order.id, [], [])
    assert reads[0] == 1


async def test_payments_and_shipments_come_in_one_more_read_in_their_order(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2), ("TEE-M", 1))
    await shop.charge(order.id)
    first = await create_shipment(
        shop.shipping_services,
        STAFF,
        order.id,
        CreateShipment(carrier="ups", tracking_number="1Z1", lines=[SkuQuantity(Sku("MUG-1"), 2)]),
    )
    second = await create_shipment(
        shop.shipping_services,
        STAFF,
        order.id,
        CreateShipment(carrier="ups", tracking_number="1Z2"),
    )
    reads = count_reads(shop)

    found, payments, shipments = await load_order_detail(shop.repo, TENANT, order.id)

    assert reads[0] == 2
    assert [p.id for p in payments] == [p.id for p in await shop.payments(order.id)]
    assert len(payments) == 1
    assert [s.id for s in shipments] == [first.id, second.id]
    assert found.id == order.id


async def test_another_tenants_order_is_not_found(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))

    with pytest.raises(AggregateNotFoundError):
        await load_order_detail(shop.repo, "another-tenant", order.id)
    with pytest.raises(AggregateNotFoundError):
        await load_order_detail(shop.repo, TENANT, uuid.uuid4())
