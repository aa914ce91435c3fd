"""The Clover pull's cursor, as a property: however sales and changes interleave with pulls
(many at the same millisecond, pages of any size), every order's latest version is delivered,
and a drained pull ends. Against the docs-checked stand-in over HTTP."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.pos.clover_running import clover
from tests.integration.pos.clover_world import T0, CloverWorld

BASE = int(T0.timestamp() * 1000)

# ("sale", advance), ("change", which order), ("pull", page size)
Step = tuple[str, int]
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("sale"), st.integers(0, 1)),
        st.tuples(st.just("change"), st.integers(0, 20)),
        st.tuples(st.just("pull"), st.integers(1, 3)),
    ),
    max_size=25,
)


async def _run(steps: list[Step]) -> tuple[dict[str, int], set[tuple[str, int]], int]:
    world = CloverWorld()
    now = BASE
    delivered: set[tuple[str, int]] = set()
    cursor: str | None = None
    pages = 0
    async with clover(world) as (pos, _, _):

        async def pull(limit: int) -> bool:
            nonlocal cursor, pages
            page = await pos.pull_orders(
                location_ids=[world.merchant_id], cursor=cursor, limit=limit
            )
            delivered.update((order.external_id, order.version) for order in page.orders)
            cursor, pages = page.cursor, pages + 1
            return page.more

        for kind, value in steps:
            if kind == "sale":
                now += value  # 0: the same millisecond as the step before
                order_id = world.till().ring_up([("MUG", 1, 100)])
                world.orders[order_id]["createdTime"] = world.orders[order_id]["modifiedTime"] = now
            elif kind == "change" and world.orders:
                now += 1
                order = list(world.orders.values())[value % len(world.orders)]
                order["modifiedTime"] = now
            elif kind == "pull":
                await pull(value)
        while await pull(2):
            assert pages < 200, "the pull never ends"
    latest = {order_id: order["modifiedTime"] for order_id, order in world.orders.items()}
    return latest, delivered, pages


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_every_order_s_latest_version_is_delivered(steps: list[Step]) -> None:
    latest, delivered, _ = asyncio.run(_run(steps))

    missing = {(order_id, version) for order_id, version in latest.items()} - delivered
    assert missing == set()
