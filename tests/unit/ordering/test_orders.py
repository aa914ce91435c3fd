"""Placing an order: catalog prices, stock held across locations, one atomic append."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from commerce_core.catalog.services import UnknownProductError
from commerce_core.customers.customer import CustomerBlockedError
from commerce_core.customers.emails import find_customer_by_email
from commerce_core.customers.services import block_customer
from commerce_core.eventstore import AggregateNotFoundError
from commerce_core.inventory.stock import InsufficientStockError, StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import CommandRequiredError, OrderStatus, PricingError
from commerce_core.ordering.services import CustomerRef, get_order
from commerce_core.processes.order_status import change_order_status
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.sealing import unseal
from commerce_core.shared.values import Address, Sku, SkuQuantity
from tests.unit.shop import HOME, STAFF, TENANT, Shop, keyed, usd

S = OrderStatus


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1250, stock=10, tax_rate_bps=1000)
    await shop.product("TEE-M", price=2000, stock=3)
    return shop


async def test_placing_an_order_prices_it_from_the_catalog_and_holds_its_stock(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2), ("TEE-M", 1), shipping_method="standard")

    assert order.status is S.PENDING_PAYMENT
    assert order.number == "ORD-000001"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("MUG-1", 2, usd(1250)),
        ("TEE-M", 1, usd(2000)),
    ]
    # 25.00 + 20.00, 10 % tax on the mugs, 5.99 standard shipping
    assert order.totals.total == usd(2500 + 250 + 2000 + 599)
    assert order.reservation_expires_at == shop.clock.now() + timedelta(minutes=30)
    mugs = await shop.levels("MUG-1")
    assert (mugs.on_hand, mugs.reserved, mugs.available) == (10, 2, 8)


async def test_the_order_its_ledger_its_stock_and_a_new_customer_are_one_append(
    shop: Shop,
) -> None:
    before = len(await shop.events())

    order = await shop.place(("MUG-1", 1), ("TEE-M", 1))

    new = (await shop.events())[before:]
    assert len({event.position.tx_id for event in new}) == 1
    streams = {event.stream_id for event in new}
    assert {order.id, OrderLedger.id_for(order.id), order.customer_id} <= streams
    assert StockItem.id_for(TENANT, "MUG-1") in streams
    assert StockItem.id_for(TENANT, "TEE-M") in streams


async def test_one_location_with_every_unit_ships_the_line_alone() -> None:
    shop = Shop()
    await shop.product("MUG-1", stock=2, location="shop-floor")
    await shop.product("MUG-1", stock=5, location="warehouse")

    order = await shop.place(("MUG-1", 4))

    levels = await shop.levels("MUG-1")
    assert [(loc.location_id, loc.reserved) for loc in levels.locations] == [
        ("shop-floor", 0),
        ("warehouse", 4),
    ]
    assert [(p.location_id, p.lines) for p in order.fulfilment_plan] == [
        ("warehouse", (SkuQuantity(Sku("MUG-1"), 4),))
    ]


async def test_a_line_no_location_has_in_full_is_split_and_held_as_planned() -> None:
    shop = Shop()
    await shop.product("MUG-1", stock=3, location="shop-floor")
    await shop.product("MUG-1", stock=2, location="warehouse")

    order = await shop.place(("MUG-1", 4))

    levels = await shop.levels("MUG-1")
    held = {loc.location_id: loc.reserved for loc in levels.locations}
    planned = {p.location_id: p.lines[0].quantity for p in order.fulfilment_plan}
    assert held == planned
    assert sum(planned.values()) == 4


async def test_not_enough_stock_in_total_refuses_the_order_and_appends_nothing(shop: Shop) -> None:
    before = await shop.events()

    with pytest.raises(InsufficientStockError) as refused:
        await shop.place(("MUG-1", 1), ("TEE-M", 4))

    assert (refused.value.sku, refused.value.requested, refused.value.available) == ("TEE-M", 4, 3)
    assert await shop.events() == before
    assert await find_customer_by_email(shop.repo, shop.keyring, TENANT, "ada@example.com") is None


async def test_a_product_priced_in_another_currency_is_refused(shop: Shop) -> None:
    await shop.product("CUP-EU", price=900, currency="EUR")
    before = await shop.events()

    with pytest.raises(PricingError):
        await shop.place(("MUG-1", 1), ("CUP-EU", 1))

    assert await shop.events() == before


async def test_an_unknown_sku_is_refused(shop: Shop) -> None:
    with pytest.raises(UnknownProductError):
        await shop.place(("NOPE", 1))


async def test_a_known_email_orders_as_that_customer_in_any_letter_case(shop: Shop) -> None:
    customer_id = await shop.customer("ada@example.com")

    order = await shop.place(("MUG-1", 1), customer=CustomerRef(email="ADA@Example.com"))

    assert order.customer_id == customer_id


async def test_a_blocked_customer_cannot_order(shop: Shop) -> None:
    customer_id = await shop.customer()
    await block_customer(shop.repo, shop.clock, STAFF, customer_id)

    with pytest.raises(CustomerBlockedError):
        await shop.place(("MUG-1", 1), customer=CustomerRef(id=customer_id))


async def test_an_order_needs_a_customer_id_or_email(shop: Shop) -> None:
    with pytest.raises(InvalidValueError):
        await shop.place(("MUG-1", 1), customer=CustomerRef(name="Nobody"))


async def test_addresses_are_sealed_under_the_customers_key(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1), shipping_address=HOME)

    assert b"Lovelace" not in b"".join(event.data for event in await shop.events())
    opened = await unseal(shop.keyring, order.shipping_address, "shipping_address", Address)
    assert opened == HOME


async def test_placing_again_with_the_same_idempotency_key_returns_the_first_order(
    shop: Shop,
) -> None:
    first = await shop.place(("MUG-1", 1), ctx=keyed("order-1"))
    again = await shop.place(("MUG-1", 1), ctx=keyed("order-1"))

    assert again.id == first.id
    assert (await shop.levels("MUG-1")).reserved == 1


async def test_another_tenant_cannot_see_the_order(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))

    with pytest.raises(AggregateNotFoundError):
        await get_order(shop.repo, "tenant-2", order.id)
    with pytest.raises(AggregateNotFoundError):
        await get_order(shop.repo, TENANT, uuid.uuid4())


async def test_patching_the_status_moves_a_paid_order_along(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    await shop.charge(order.id)

    moved = await change_order_status(
        shop.payment_services, STAFF, order.id, "processing", "picking"
    )

    assert moved.status is S.PROCESSING
    assert moved.status_history[-1].reason == "picking"


async def test_patching_to_a_status_that_needs_a_command_is_refused(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 1))
    before = await shop.events()

    with pytest.raises(CommandRequiredError):
        await change_order_status(shop.payment_services, STAFF, order.id, "paid")

    assert await shop.events() == before


async def test_patching_to_cancelled_cancels_the_order_and_frees_its_stock(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 3))

    cancelled = await change_order_status(
        shop.payment_services, STAFF, order.id, S.CANCELLED, "duplicate"
    )

    assert cancelled.status is S.CANCELLED
    assert (await shop.levels("MUG-1")).reserved == 0
