"""Cash on delivery: the order ships unpaid, holding its stock until it does, and each
delivered parcel records the cash the courier collected, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce_core.fulfilment.shipment import Shipment, ShipmentStatus
from commerce_core.inventory.stock import InsufficientStockError, StockItem
from commerce_core.ordering.loading import load_ledger
from commerce_core.ordering.order import SYSTEM, Order, OrderStatus
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.results import NothingToPayError, PaymentResult
from commerce_core.processes.cash_on_delivery import collection_id
from commerce_core.processes.manual_payments import (
    ManualReceipt,
    ManualRefund,
    record_manual_payment,
    record_manual_refund,
)
from commerce_core.processes.order_detail import load_order_detail
from commerce_core.processes.order_jobs import auto_cancel_unpaid, expire_order_reservations
from commerce_core.processes.order_status import change_order_status
from commerce_core.processes.shipping import (
    CarrierUpdate,
    CreateShipment,
    create_shipment,
    record_shipment_event,
)
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.values import PaymentMethod, Sku, SkuQuantity
from tests.unit.shop import FEES, STAFF, TENANT, Shop, usd

S = OrderStatus
T = ShipmentStatus
CASH = PaymentMethod.CASH_ON_DELIVERY
JOB = CommandContext(tenant_id=TENANT, actor=SYSTEM)


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    await shop.product("TEE-M", price=2500, stock=5)
    return shop


async def cod_order(shop: Shop, *lines: tuple[str, int]) -> Order:
    """Mugs at 10.00 and tees at 25.00, no tax, free shipping, paid to the courier."""
    return await shop.place(
        *(lines or (("MUG-1", 2), ("TEE-M", 1))), payment_method="cash_on_delivery"
    )


async def confirm(shop: Shop, order: Order) -> Order:
    return await change_order_status(
        shop.payment_services, STAFF, order.id, S.PROCESSING, "cash on delivery"
    )


async def ship(shop: Shop, order: Order, *items: tuple[str, int]) -> Shipment:
    lines = [SkuQuantity(Sku(sku), quantity) for sku, quantity in items] or None
    command = CreateShipment(carrier="ups", lines=lines)
    return await create_shipment(shop.shipping_services, STAFF, order.id, command)


async def track(shop: Shop, shipment: Shipment, status: ShipmentStatus) -> Shipment:
    update = CarrierUpdate(status=status)
    return await record_shipment_event(shop.shipping_services, STAFF, shipment.id, update, FEES)


async def by_hand(
    shop: Shop, order: Order, shipment: Shipment | None = None, amount: int | None = None
) -> PaymentResult:
    receipt = ManualReceipt(
        method=CASH, amount=amount, shipment_id=None if shipment is None else shipment.id
    )
    return await record_manual_payment(shop.manual_payment_services, STAFF, order.id, receipt, FEES)


async def payments(shop: Shop, order: Order) -> list[Payment]:
    _, found, _ = await load_order_detail(shop.repo, TENANT, order.id)
    return found


# Stock


async def test_the_order_holds_its_stock_until_it_ships_not_thirty_minutes(shop: Shop) -> None:
    order = await cod_order(shop, ("MUG-1", 2))
    shop.clock.advance(timedelta(days=3))

    assert await expire_order_reservations(shop.repo, shop.clock, JOB, order.id) is False

    assert order.reservation_expires_at is None
    assert ((await shop.levels("MUG-1")).reserved, (await shop.levels("MUG-1")).available) == (2, 3)


async def test_the_unpaid_order_job_never_cancels_it(shop: Shop) -> None:
    order = await cod_order(shop)
    shop.clock.advance(timedelta(days=3))

    cancelled = await auto_cancel_unpaid(shop.payment_services, JOB, order.id, 24)

    assert cancelled is None
    assert (await shop.order(order.id)).status is S.PENDING_PAYMENT


async def test_it_is_confirmed_and_shipped_unpaid_and_its_stock_leaves_with_the_parcel(
    shop: Shop,
) -> None:
    order = await cod_order(shop, ("MUG-1", 2))
    await confirm(shop, order)
    before = len(await shop.events())

    await ship(shop, order)

    shipped = await shop.order(order.id)
    assert (shipped.status, shipped.paid) == (S.SHIPPED, usd(0))
    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved) == (3, 0)
    assert (await load_ledger(shop.repo, shipped)).taken == {"MUG-1": 2}
    new = (await shop.events())[before:]
    assert len({event.position.tx_id for event in new}) == 1  # one append


async def test_a_first_partial_parcel_takes_all_the_orders_stock_once(shop: Shop) -> None:
    order = await cod_order(shop)
    await ship(shop, order, ("MUG-1", 1))
    await ship(shop, order)

    assert (await shop.levels("MUG-1")).on_hand == 3
    assert (await shop.levels("TEE-M")).on_hand == 4
    assert (await load_ledger(shop.repo, await shop.order(order.id))).taken == {
        "MUG-1": 2,
        "TEE-M": 1,
    }


async def test_a_card_order_still_cannot_be_confirmed_or_shipped_unpaid(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1), payment_method="card")
    events = await shop.events()

    with pytest.raises(InvalidTransitionError):
        await confirm(shop, order)
    with pytest.raises(InvalidTransitionError):
        await ship(shop, order)

    assert await shop.events() == events


async def test_a_parcel_whose_units_are_gone_is_refused_and_records_nothing(shop: Shop) -> None:
    order = await cod_order(shop, ("MUG-1", 2))
    item = await shop.repo.get(StockItem.id_for(TENANT, "MUG-1"), kind=StockItem)
    item.release(order.id, shop.clock.now())  # a hold lost (an order placed before holds lasted)
    await shop.repo.save(item, metadata=STAFF.metadata())
    await shop.place(("MUG-1", 4))
    events = await shop.events()

    with pytest.raises(InsufficientStockError):
        await ship(shop, order)

    assert await shop.events() == events


async def test_cancelled_before_shipping_it_frees_its_stock_and_records_no_payment(
    shop: Shop,
) -> None:
    order = await cod_order(shop, ("MUG-1", 2))
    await confirm(shop, order)

    cancelled = await shop.cancel(order.id)

    assert (cancelled.status, cancelled.paid) == (S.CANCELLED, usd(0))
    assert await payments(shop, cancelled) == []
    levels = await shop.levels("MUG-1")
    assert (levels.on_hand, levels.reserved, levels.available) == (5, 0, 5)


# Cash


async def test_delivery_records_the_cash_collected_with_the_delivery(shop: Shop) -> None:
    order = await cod_order(shop)  # 45.00
    shipment = await ship(shop, order)
    before = len(await shop.events())

    await track(shop, shipment, T.DELIVERED)

    delivered = await shop.order(order.id)
    assert (delivered.status, delivered.paid) == (S.DELIVERED, usd(4500))
    [payment] = await payments(shop, delivered)
    assert payment.id == collection_id(shipment.id)
    assert (payment.method, payment.gateway, payment.status) == (CASH, CASH, PaymentStatus.CAPTURED)
    assert (payment.captured, payment.gateway_fee, payment.platform_fee) == (
        usd(4500),
        usd(0),
        usd(135),  # the tenant's 3 %: cash has no gateway fee
    )
    assert delivered.payment_ids == [payment.id]
    assert [(c.status, c.reason) for c in delivered.status_history] == [
        (S.PENDING_PAYMENT, None),
        (S.SHIPPED, None),
        (S.DELIVERED, "cash collected on delivery: 45.00 USD"),
    ]
    new = (await shop.events())[before:]
    assert len({event.position.tx_id for event in new}) == 1  # one append


async def test_the_same_delivery_reported_twice_records_one_payment(shop: Shop) -> None:
    order = await cod_order(shop)
    shipment = await ship(shop, order)
    await track(shop, shipment, T.DELIVERED)
    events = await shop.events()

    await track(shop, shipment, T.DELIVERED)

    assert await shop.events() == events
    assert len(await payments(shop, order)) == 1


async def test_two_parcels_each_collect_their_share_and_add_up_to_the_total(
    shop: Shop,
) -> None:
    order = await cod_order(shop)  # mugs 20.00 and a tee 25.00
    mugs = await ship(shop, order, ("MUG-1", 2))
    tee = await ship(shop, order, ("TEE-M", 1))

    await track(shop, tee, T.DELIVERED)  # parcels arrive in any order
    assert (await shop.order(order.id)).status is S.SHIPPED
    await track(shop, mugs, T.DELIVERED)

    delivered = await shop.order(order.id)
    assert (delivered.status, delivered.paid) == (S.DELIVERED, usd(4500))
    collected = {p.id: p.captured for p in await payments(shop, delivered)}
    assert collected == {collection_id(tee.id): usd(2500), collection_id(mugs.id): usd(2000)}


async def test_a_parcel_delivered_before_the_rest_ships_collects_its_share(shop: Shop) -> None:
    order = await cod_order(shop, ("MUG-1", 3))  # 30.00
    first = await ship(shop, order, ("MUG-1", 1))
    await track(shop, first, T.DELIVERED)

    partly = await shop.order(order.id)
    assert (partly.status, partly.paid) == (S.PARTIALLY_SHIPPED, usd(1000))

    rest = await ship(shop, order)
    await track(shop, rest, T.DELIVERED)
    assert (await shop.order(order.id)).paid == usd(3000)


async def test_a_failed_delivery_records_no_cash_until_it_is_delivered(shop: Shop) -> None:
    order = await cod_order(shop)
    shipment = await ship(shop, order)

    await track(shop, shipment, T.EXCEPTION)

    failed = await shop.order(order.id)
    assert (failed.status, failed.paid) == (S.SHIPPED, usd(0))
    assert await payments(shop, failed) == []
    await track(shop, shipment, T.DELIVERED)  # a second attempt
    assert (await shop.order(order.id)).paid == usd(4500)


# Cash recorded by hand


async def test_cash_reported_for_a_parcel_is_not_collected_again_at_its_delivery(
    shop: Shop,
) -> None:
    order = await cod_order(shop)
    mugs = await ship(shop, order, ("MUG-1", 2))
    tee = await ship(shop, order)

    late = await by_hand(shop, order, mugs)  # the courier reports the mugs' cash by phone
    await track(shop, mugs, T.DELIVERED)
    await track(shop, tee, T.DELIVERED)

    assert late.payment.id == collection_id(mugs.id)
    assert late.payment.captured == usd(2000)
    delivered = await shop.order(order.id)
    assert (delivered.status, delivered.paid) == (S.DELIVERED, usd(4500))
    assert len(await payments(shop, delivered)) == 2


async def test_cash_reported_after_its_delivery_returns_the_payment_of_the_delivery(
    shop: Shop,
) -> None:
    order = await cod_order(shop)
    shipment = await ship(shop, order)
    await track(shop, shipment, T.DELIVERED)
    events = await shop.events()

    late = await by_hand(shop, order, shipment)

    assert late.payment.id == collection_id(shipment.id)
    assert await shop.events() == events


async def test_cash_paid_at_the_counter_pays_the_order_and_deliveries_collect_nothing(
    shop: Shop,
) -> None:
    order = await cod_order(shop, ("MUG-1", 2))

    counter = await by_hand(shop, order)
    shipment = await ship(shop, order)
    await track(shop, shipment, T.DELIVERED)

    assert counter.payment.captured == usd(2000)
    delivered = await shop.order(order.id)
    assert [c.status for c in delivered.status_history] == [
        S.PENDING_PAYMENT,
        S.PAID,
        S.SHIPPED,
        S.DELIVERED,
    ]
    assert [p.id for p in await payments(shop, delivered)] == [counter.payment.id]
    assert (await shop.levels("MUG-1")).on_hand == 3  # taken once, when paid


async def test_cash_by_hand_for_a_parcel_of_another_order_or_owed_nothing_is_refused(
    shop: Shop,
) -> None:
    order = await cod_order(shop)
    other = await cod_order(shop, ("MUG-1", 1))
    elsewhere = await ship(shop, other)
    collected_elsewhere = await ship(shop, await cod_order(shop, ("TEE-M", 1)))
    await track(shop, collected_elsewhere, T.DELIVERED)
    shipment = await ship(shop, order)
    await by_hand(shop, order, amount=4500)
    events = await shop.events()

    with pytest.raises(InvalidValueError):
        await by_hand(shop, order, elsewhere)
    with pytest.raises(InvalidValueError):
        await by_hand(shop, order, collected_elsewhere)
    with pytest.raises(NothingToPayError):
        await by_hand(shop, order, shipment)

    assert await shop.events() == events


# After delivery


async def test_cash_is_given_back_by_hand_after_delivery(shop: Shop) -> None:
    order = await cod_order(shop)
    shipment = await ship(shop, order)
    await track(shop, shipment, T.DELIVERED)

    cash_back = ManualRefund(amount=4500, reason="returned", reference="CASH-OUT-1")
    refund = await record_manual_refund(
        shop.manual_payment_services, STAFF, collection_id(shipment.id), cash_back
    )

    assert refund.amount == usd(4500)
    refunded = await shop.order(order.id)
    assert (refunded.status, refunded.refunded) == (S.REFUNDED, usd(4500))
    payment = await shop.payment(collection_id(shipment.id))
    assert payment.status is PaymentStatus.REFUNDED


async def test_an_order_refund_that_would_reach_cash_moves_no_money_at_the_gateway(
    shop: Shop,
) -> None:
    order = await cod_order(shop)  # 45.00: 10.00 by card, the rest in cash at the counter
    card = await shop.authorize(order.id)
    await shop.capture(card.payment.id, 1000)
    await by_hand(shop, order)
    events = await shop.events()

    with pytest.raises(InvalidTransitionError):
        await shop.refund_order(order.id)  # cash goes back by hand, not through the gateway

    assert await shop.events() == events
    at_gateway = await shop.gateway.retrieve(card.payment.gateway_payment_id or "")
    assert at_gateway.refunded == usd(0)
