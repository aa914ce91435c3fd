"""Crashes at every step of a payment's gateway call, and recovery finishing each one.

The fault-injection test of ADR 0016: whatever step the process dies at (after the
intent is recorded, after the gateway acted, before the outcome is recorded, during
the follow-ups), one round of recovery converges: the gateway acted once, the
payment recorded it once, the order was paid by exactly that money, and no intent
is left open.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from adapters.memory.carrier import OneCarrier
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.effects.open_effects import OpenEffects, open_before
from commerce_core.effects.recovery import GRACE, RecoveryServices, recover_effects
from commerce_core.eventstore import ConcurrencyError, EventStoreError
from commerce_core.fulfilment.loading import order_shipments
from commerce_core.fulfilment.ports import Parcel
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.payment import PaymentStatus
from commerce_core.payments.ports.gateway import GatewayUnavailableError, PaymentGateway
from commerce_core.processes.shipping import CreateShipment, LabelRequest, create_shipment
from commerce_core.projections.order_list import OrderList
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.retry import DECISION_ATTEMPTS
from tests.unit.shop import HOME, STAFF, TENANT, Shop, keyed, usd


class CrashError(Exception):
    """The process died here."""


class OneGateway:
    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway

    async def for_tenant(self, tenant_id: str | UUID) -> PaymentGateway:
        return self.gateway


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


def recovery_services(shop: Shop, read_model: MemoryReadModel) -> RecoveryServices:
    """Recovery on the shop's ports, finding open intents in ``read_model``."""
    gateways = OneGateway(shop.gateway)
    return RecoveryServices(
        repo=shop.repo,
        read_models=read_model,
        clock=shop.clock,
        ids=shop.ids,
        gateways=gateways,
        carriers=OneCarrier(shop.carrier),
        keyring=shop.keyring,
        labels=shop.labels,
    )


async def recover(shop: Shop) -> int:
    """One round of recovery after the grace; returns how many intents it found. The
    order list, caught up before the recovery and kept up to date through it, must equal
    one rebuilt from the events afterwards."""
    shop.clock.advance(GRACE + timedelta(seconds=1))
    read_model = MemoryReadModel()
    async with ProjectionRunner(shop.store, read_model, [OpenEffects(), OrderList()]) as runner:
        await runner.wait_for("open_effects", await shop.store.head())
        round_ = await recover_effects(recovery_services(shop, read_model))
        await runner.wait_for("open_effects", await shop.store.head())
        await runner.wait_for("order_list", await shop.store.head())
        assert await open_before(read_model, shop.clock.now()) == []
    assert round_.still_open == 0
    rebuilt = MemoryReadModel()
    async with ProjectionRunner(shop.store, rebuilt, [OrderList()]) as runner:
        await runner.wait_for("order_list", await shop.store.head())
    assert await read_model.rows("order_list") == await rebuilt.rows("order_list")
    return round_.looked_at


async def assert_paid_once(shop: Shop, order_id: UUID) -> None:
    [payment] = await shop.payments(order_id)
    order = await shop.order(order_id)
    assert shop.gateway.payment_count == 1
    assert (payment.status, payment.captured, payment.open_effects) == (
        PaymentStatus.CAPTURED,
        usd(2000),
        [],
    )
    assert (order.status, order.paid, order.payments_in_progress) == (
        OrderStatus.PAID,
        usd(2000),
        [],
    )
    assert (await shop.levels("MUG-1")).on_hand == 3  # the stock was taken once


async def test_a_crash_after_the_intent_before_the_call_is_charged_by_recovery(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    charge = shop.gateway.charge

    async def dies(*args: object, **kwargs: object) -> None:
        raise CrashError

    shop.gateway.charge = dies  # type: ignore[assignment,method-assign]
    with pytest.raises(CrashError):
        await shop.charge(order.id)
    shop.gateway.charge = charge  # type: ignore[method-assign]
    assert shop.gateway.payment_count == 0

    assert await recover(shop) == 1
    await assert_paid_once(shop, order.id)


async def test_a_crash_after_the_gateway_charged_is_recorded_once_by_recovery(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.store.planned = [None, EventStoreError("the database went away")]  # intent, outcome

    with pytest.raises(EventStoreError):
        await shop.charge(order.id)
    assert shop.gateway.payment_count == 1

    assert await recover(shop) == 1
    await assert_paid_once(shop, order.id)


async def test_a_crash_between_the_outcome_and_the_follow_ups_is_finished_by_recovery(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    race = ConcurrencyError(order.id, 1)
    # the intent; the outcome with its follow-ups loses a race; the outcome alone is
    # recorded; then the process dies before the follow-ups
    shop.store.planned = [None, race, None, EventStoreError("the database went away")]

    with pytest.raises(EventStoreError):
        await shop.charge(order.id)
    [payment] = await shop.payments(order.id)
    assert (payment.captured, payment.open_effects[0].answer) == (usd(2000), "captured")
    assert (await shop.order(order.id)).paid == usd(0)

    assert await recover(shop) == 1
    await assert_paid_once(shop, order.id)


async def test_a_crash_between_the_charge_and_its_stock_take_is_taken_once_by_recovery(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    # the intent; the outcome with the order paid (ADR 0046: no stock in it); the
    # process dies at the take
    shop.store.planned = [None, None, EventStoreError("the database went away")]

    with pytest.raises(EventStoreError):
        await shop.charge(order.id)
    [payment] = await shop.payments(order.id)
    assert (payment.captured, payment.open_effects[0].answer) == (usd(2000), "captured")
    assert (await shop.order(order.id)).status is OrderStatus.PAID
    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved) == (5, 2)  # still held, not taken

    assert await recover(shop) == 1
    await assert_paid_once(shop, order.id)
    assert await recover(shop) == 0  # nothing left: the stock is not taken twice
    assert (await shop.levels("MUG-1")).on_hand == 3


async def test_a_take_that_loses_every_race_answers_the_client_and_recovery_takes_it(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    race = ConcurrencyError(order.id, 1)
    shop.store.planned = [None, None, *[race] * DECISION_ATTEMPTS]

    result = await shop.charge(order.id)  # no conflict reaches the client

    assert result.payment.status is PaymentStatus.CAPTURED
    assert (await shop.order(order.id)).status is OrderStatus.PAID
    assert (await shop.levels("MUG-1")).on_hand == 5
    assert await recover(shop) == 1
    await assert_paid_once(shop, order.id)


async def test_a_gateway_that_stays_silent_is_finished_by_recovery_once_it_answers(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.gateway.lose_answers(3)

    pending = await shop.charge(order.id, ctx=keyed("pay-1"))

    assert pending.pending
    assert await recover(shop) == 1
    await assert_paid_once(shop, order.id)


async def test_recovery_leaves_an_intent_open_while_the_gateway_is_down(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    shop.gateway.lose_answers(3)
    await shop.charge(order.id)
    charge = shop.gateway.charge

    async def down(*args: object, **kwargs: object) -> None:
        raise GatewayUnavailableError("down")

    shop.gateway.charge = down  # type: ignore[assignment,method-assign]
    shop.clock.advance(GRACE + timedelta(seconds=1))
    read_model = MemoryReadModel()
    async with ProjectionRunner(shop.store, read_model, [OpenEffects()]) as runner:
        await runner.wait_for("open_effects", await shop.store.head())
        round_ = await recover_effects(recovery_services(shop, read_model))
    assert (round_.looked_at, round_.still_open) == (1, 1)

    shop.gateway.charge = charge  # type: ignore[method-assign]
    assert await recover(shop) == 1
    await assert_paid_once(shop, order.id)


async def test_a_refund_whose_outcome_was_lost_is_recorded_once_by_recovery(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = await shop.charge(order.id)
    shop.store.planned = [None, EventStoreError("the database went away")]

    with pytest.raises(EventStoreError):
        await shop.refund_payment(charged.payment.id, 500)

    assert await recover(shop) == 1
    payment = await shop.payment(charged.payment.id)
    assert (payment.refunded, len(payment.refunds), payment.open_effects) == (usd(500), 1, [])
    assert (await shop.order(order.id)).refunded == usd(500)
    assert (await shop.gateway.retrieve(payment.gateway_payment_id or "")).refunded == usd(500)


async def test_a_label_bought_whose_save_failed_is_recorded_by_recovery_not_bought_again(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2), shipping_address=HOME)
    await shop.charge(order.id)
    label = LabelRequest(ship_from=HOME, parcel=Parcel(weight_grams=900))
    shop.store.planned = [None, EventStoreError("the database went away")]  # intent, label

    with pytest.raises(EventStoreError):
        await create_shipment(
            shop.shipping_services, STAFF, order.id, CreateShipment(carrier="fake"), label
        )

    assert await recover(shop) == 1
    [(reference, bought)] = shop.carrier.labels
    [shipment] = await order_shipments(shop.repo, TENANT, order.id)
    assert (str(shipment.id), shipment.tracking_number) == (reference, bought.tracking_number)
