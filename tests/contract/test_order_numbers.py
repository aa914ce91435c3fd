"""The order numbers contract: unique and increasing per tenant, for every adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.memory.order_numbers import MemoryOrderNumbers
from adapters.postgres.order_numbers import PostgresOrderNumbers
from commerce_core.ordering.ports.order_numbers import OrderNumbers
from commerce_core.shared.values import order_number_sequence
from tests.conftest import PgSchema


@pytest.fixture(params=["memory", "postgres"])
async def numbers(request: pytest.FixtureRequest) -> AsyncIterator[OrderNumbers]:
    if request.param == "memory":
        yield MemoryOrderNumbers()
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=20)
    try:
        yield PostgresOrderNumbers(pool)
    finally:
        await pool.close()
        await schema.drop()


async def test_a_tenants_first_numbers_count_up_from_one(numbers: OrderNumbers) -> None:
    assert [await numbers.next("tenant-a") for _ in range(3)] == [
        "ORD-000001",
        "ORD-000002",
        "ORD-000003",
    ]


async def test_tenants_have_their_own_sequences(numbers: OrderNumbers) -> None:
    await numbers.next("tenant-a")
    await numbers.next("tenant-a")

    assert await numbers.next("tenant-b") == "ORD-000001"
    assert await numbers.next("tenant-a") == "ORD-000003"


async def test_concurrent_allocations_never_repeat_a_number(numbers: OrderNumbers) -> None:
    allocated = await asyncio.gather(*(numbers.next("tenant-a") for _ in range(200)))

    assert len(set(allocated)) == 200
    after = await numbers.next("tenant-a")
    assert order_number_sequence(after) > max(map(order_number_sequence, allocated))


async def test_a_tenant_id_of_any_shape_gets_its_own_sequence(numbers: OrderNumbers) -> None:
    odd = 'Tenant "quoted"; DROP TABLE x --'

    assert await numbers.next(odd) == "ORD-000001"
    assert await numbers.next(odd.lower()) == "ORD-000001"
    assert await numbers.next(odd) == "ORD-000002"


async def test_the_first_numbers_of_a_new_tenant_taken_at_once_are_all_distinct(
    numbers: OrderNumbers,
) -> None:
    allocated = await asyncio.gather(*(numbers.next("brand-new") for _ in range(20)))

    assert sorted(map(order_number_sequence, allocated)) == list(range(1, 21))
