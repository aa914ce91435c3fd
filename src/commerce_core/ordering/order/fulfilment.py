"""Which order lines a shipment may carry: the helper behind ``Order.lines_to_ship``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from commerce_core.ordering.order.errors import ShipmentLinesError
from commerce_core.ordering.order.values import OrderLine
from commerce_core.shared.values import Sku, SkuQuantity


def remaining(lines: Sequence[OrderLine], shipped: Mapping[Sku, int]) -> dict[Sku, int]:
    """Units of each SKU not shipped yet (SKUs fully shipped are left out)."""
    left = {line.sku: line.quantity - shipped.get(line.sku, 0) for line in lines}
    return {sku: quantity for sku, quantity in left.items() if quantity > 0}


def lines_to_ship(
    lines: Sequence[OrderLine],
    shipped: Mapping[Sku, int],
    requested: Sequence[SkuQuantity] | None,
) -> list[SkuQuantity]:
    """``requested`` checked against what is left to ship; ``None`` means all of it.

    Raises ``ShipmentLinesError`` for an empty shipment, a SKU named twice, a SKU
    the order does not have, or more units than are left.
    """
    left = remaining(lines, shipped)
    if requested is None:
        if not left:
            raise ShipmentLinesError("every line of the order has shipped already")
        return [SkuQuantity(sku, quantity) for sku, quantity in left.items()]
    if not requested:
        raise ShipmentLinesError("a shipment carries at least one line")
    skus = [item.sku for item in requested]
    if len(set(skus)) != len(skus):
        raise ShipmentLinesError("a shipment names each SKU once")
    ordered = {line.sku for line in lines}
    for item in requested:
        if item.sku not in ordered:
            raise ShipmentLinesError(f"the order has no line {item.sku}")
        if item.quantity > left.get(item.sku, 0):
            raise ShipmentLinesError(
                f"{item.quantity} x {item.sku} requested, {left.get(item.sku, 0)} left to ship"
            )
    return list(requested)
