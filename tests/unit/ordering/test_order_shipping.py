"""Order shipments: all lines at once or in parts, checked against what is left to ship."""

from __future__ import annotations

import uuid

import pytest

from commerce_core.ordering.order import OrderStatus, ShipmentLinesError
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.gwt import given
from tests.unit.ordering.order_builders import MUG, T1, T2, TEE, in_status, new_order, paid_order

S = OrderStatus
SHIPMENT = uuid.UUID("00000000-0000-0000-0000-0000000000e1")


@pytest.mark.parametrize("status", [S.PAID, S.PROCESSING, S.READY_FOR_SHIPMENT])
def test_shipping_every_line_makes_the_order_shipped(status: OrderStatus) -> None:
    spec = given(in_status(status))

    [payload] = spec.when(lambda o: o.record_shipment(SHIPMENT, None, T2, "warehouse")).then(
        "ShipmentRecorded"
    )

    assert payload == {
        "shipment_id": SHIPMENT,
        "lines": [SkuQuantity(MUG, 2), SkuQuantity(TEE, 1)],
        "status": S.SHIPPED,
        "at": T2,
        "actor": "warehouse",
    }
    order = spec.aggregate
    assert order.is_fully_shipped
    assert order.shipment_ids == [SHIPMENT]
    assert order.shipped == {MUG: 2, TEE: 1}


def test_shipping_some_lines_makes_the_order_partially_shipped_until_the_rest_ships() -> None:
    spec = given(paid_order())

    [first] = spec.when(
        lambda o: o.record_shipment(SHIPMENT, [SkuQuantity(MUG, 1), SkuQuantity(TEE, 1)], T1)
    ).then("ShipmentRecorded")
    assert first["status"] is S.PARTIALLY_SHIPPED
    assert not spec.aggregate.is_fully_shipped
    assert spec.aggregate.lines_to_ship() == [SkuQuantity(MUG, 1)]

    [second] = spec.when(lambda o: o.record_shipment(uuid.uuid4(), [SkuQuantity(MUG, 1)], T2)).then(
        "ShipmentRecorded"
    )
    assert second["status"] is S.SHIPPED
    statuses = [change.status for change in spec.aggregate.status_history]
    assert statuses == [S.PENDING_PAYMENT, S.PAID, S.PARTIALLY_SHIPPED, S.SHIPPED]


def test_several_partial_shipments_keep_the_order_partially_shipped() -> None:
    spec = given(in_status(S.PARTIALLY_SHIPPED))

    [payload] = spec.when(
        lambda o: o.record_shipment(uuid.uuid4(), [SkuQuantity(TEE, 1)], T2)
    ).then("ShipmentRecorded")

    assert payload["status"] is S.PARTIALLY_SHIPPED
    assert spec.aggregate.lines_to_ship() == [SkuQuantity(MUG, 1)]


@pytest.mark.parametrize(
    "lines",
    [
        [SkuQuantity(MUG, 3)],
        [SkuQuantity(Sku("HAT-1"), 1)],
        [SkuQuantity(MUG, 1), SkuQuantity(MUG, 1)],
        [],
    ],
    ids=["more-than-ordered", "unknown-sku", "sku-twice", "nothing"],
)
def test_a_shipment_must_carry_lines_the_order_still_has_to_ship(
    lines: list[SkuQuantity],
) -> None:
    given(paid_order()).when(lambda o: o.record_shipment(SHIPMENT, lines, T2)).then_error(
        ShipmentLinesError
    )


def test_units_already_shipped_cannot_ship_again() -> None:
    spec = given(in_status(S.PARTIALLY_SHIPPED))  # one mug has left

    spec.when(lambda o: o.record_shipment(SHIPMENT, [SkuQuantity(MUG, 2)], T2)).then_error(
        ShipmentLinesError
    )


def test_the_same_shipment_is_not_recorded_twice() -> None:
    spec = given(paid_order(), lambda o: o.record_shipment(SHIPMENT, [SkuQuantity(MUG, 1)], T1))

    spec.when(lambda o: o.record_shipment(SHIPMENT, [SkuQuantity(TEE, 1)], T2)).then_error(
        InvalidValueError
    )


@pytest.mark.parametrize("status", [S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.CANCELLED, S.SHIPPED])
def test_nothing_ships_before_payment_after_cancelling_or_once_everything_has_shipped(
    status: OrderStatus,
) -> None:
    given(in_status(status)).when(lambda o: o.record_shipment(SHIPMENT, None, T2)).then_error(
        InvalidTransitionError
    )


def test_lines_to_ship_is_everything_left_for_a_new_order() -> None:
    assert new_order().lines_to_ship() == [SkuQuantity(MUG, 2), SkuQuantity(TEE, 1)]
    assert new_order().lines_to_ship([SkuQuantity(TEE, 1)]) == [SkuQuantity(TEE, 1)]
    with pytest.raises(ShipmentLinesError):
        in_status(S.SHIPPED).lines_to_ship()
