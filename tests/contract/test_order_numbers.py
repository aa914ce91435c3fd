"""The order numbers contract: unique and increasing per tenant, for every adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from adapters.memory.order_numbers import MemoryOrderNumbers
from commerce_core.domain.values import order_number_sequence
from commerce_core.ports.order_numbers import OrderNumbers

ADAPTERS: dict[str, Callable[[], OrderNumbers]] = {"memory": MemoryOrderNumbers}


@pytest.fixture(params=sorted(ADAPTERS))
def numbers(request: pytest.FixtureRequest) -> OrderNumbers:
    return ADAPTERS[request.param]()


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
