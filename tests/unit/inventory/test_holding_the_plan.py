"""Holding again (a longer hold, a payment after the hold lapsed) keeps the units at the
locations the order's fulfilment plan names (ADR 0031)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from commerce_core.inventory.order_stock import (
    OrderHold,
    Stock,
    hold_lines,
    hold_plan,
    put_back,
    take_lines,
)
from commerce_core.inventory.routing import PlannedShipment
from commerce_core.inventory.stock import StockItem
from commerce_core.shared.values import Sku, SkuQuantity

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
ORDER = uuid.uuid4()
MUG = Sku("MUG-1")


def stock_at(**units: int) -> Stock:
    items = []
    for location_id, n in units.items():
        item = StockItem.create("t1", MUG, T0, location_id)
        item.receive(n, T0)
        items.append(item)
    return {MUG: items}


def held(stock: Stock) -> dict[str, int]:
    return {
        item.location_id: r.quantity
        for item in stock[MUG]
        if (r := item.reservation(ORDER)) is not None
    }


PLAN = [PlannedShipment(location_id="far", lines=(SkuQuantity(MUG, 3),))]


def test_a_longer_hold_keeps_the_units_where_the_plan_put_them() -> None:
    stock = stock_at(near=5, far=5)
    hold_plan(stock, ORDER, PLAN, T0 + timedelta(minutes=30), T0)

    hold_lines(stock, OrderHold(ORDER, [SkuQuantity(MUG, 3)], PLAN), T0 + timedelta(days=7), T0)

    assert held(stock) == {"far": 3}


def test_a_longer_hold_without_the_plan_keeps_the_units_where_they_were_held() -> None:
    stock = stock_at(near=5, far=5)
    hold_plan(stock, ORDER, PLAN, T0 + timedelta(minutes=30), T0)

    hold_lines(stock, OrderHold(ORDER, [SkuQuantity(MUG, 3)]), T0 + timedelta(days=7), T0)

    assert held(stock) == {"far": 3}


def test_paying_after_the_hold_was_released_takes_the_units_at_the_planned_location() -> None:
    stock = stock_at(near=5, far=5)
    hold_plan(stock, ORDER, PLAN, T0 + timedelta(minutes=30), T0)
    later = T0 + timedelta(hours=1)
    for item in stock[MUG]:
        if item.reservation(ORDER) is not None:
            item.release(ORDER, later)

    take_lines(stock, ORDER, [SkuQuantity(MUG, 3)], later, PLAN)

    assert {item.location_id: item.on_hand for item in stock[MUG]} == {"near": 5, "far": 2}


def test_what_the_planned_location_lacks_now_comes_first_fit_from_elsewhere() -> None:
    stock = stock_at(near=5, far=1)

    take_lines(stock, ORDER, [SkuQuantity(MUG, 3)], T0, PLAN)

    assert {item.location_id: item.on_hand for item in stock[MUG]} == {"near": 3, "far": 0}


def test_units_put_back_return_to_the_location_the_plan_shipped_them_from() -> None:
    stock = stock_at(near=5, far=5)

    put_back(stock, ORDER, [SkuQuantity(MUG, 2)], T0, PLAN)

    assert {item.location_id: item.on_hand for item in stock[MUG]} == {"near": 5, "far": 7}


def test_units_of_orders_without_a_plan_go_back_to_the_first_location() -> None:
    stock = stock_at(near=5, far=5)

    put_back(stock, ORDER, [SkuQuantity(MUG, 2)], T0)

    assert {item.location_id: item.on_hand for item in stock[MUG]} == {"near": 7, "far": 5}
