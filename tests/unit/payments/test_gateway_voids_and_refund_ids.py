"""Gateway events about voids and about our own refunds: a void from the gateway does what our
void command does, once, in any order; a refund event naming our refund id is that refund,
recorded under its id when our save failed, and never counted twice."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import pytest

from commerce_core.eventstore import EventStoreError
from commerce_core.ordering.order import SYSTEM, OrderStatus
from commerce_core.payments.payment import Payment, PaymentStatus, RefundStatus
from commerce_core.payments.ports.webhooks import GatewayEvent, GatewayEventKind
from commerce_core.payments.webhooks.events import GatewayEventOutcome, record_gateway_event
from commerce_core.shared.context import CommandContext
from tests.unit.shop import TENANT, Shop, keyed, usd

K = GatewayEventKind
S = OrderStatus
P = PaymentStatus
WEBHOOK = CommandContext(tenant_id=TENANT, actor=SYSTEM)


async def a_shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    return shop


@pytest.fixture
async def shop() -> Shop:
    return await a_shop()


async def deliver(shop: Shop, payment: Payment, kind: K, **fields: Any) -> GatewayEventOutcome:
    fields.setdefault("id", f"evt_{uuid.uuid4().hex[:12]}")
    event = GatewayEvent(
        kind=kind, gateway="fake", gateway_payment_id=payment.gateway_payment_id or "", **fields
    )
    return await record_gateway_event(shop.repo, shop.clock, WEBHOOK, event)


async def opened(shop: Shop, token: str) -> Payment:
    order = await shop.place(("MUG-1", 2))
    return (await shop.authorize(order.id, token)).payment


async def state(shop: Shop, payment_id: UUID) -> tuple[object, ...]:
    payment = await shop.payment(payment_id)
    order = await shop.order(payment.order_id)
    levels = await shop.levels("MUG-1")
    return payment.status, payment.decline_code, order.status, levels.on_hand, levels.available


# Voids


@pytest.mark.parametrize("token", ["tok_visa", "tok_3ds"], ids=["authorized", "awaiting-3ds"])
async def test_a_void_from_the_gateway_does_what_our_void_command_does(token: str) -> None:
    ours, gateways = await a_shop(), await a_shop()
    voided_by_us = await opened(ours, token)
    voided_there = await opened(gateways, token)

    await ours.void(voided_by_us.id)
    outcome = await deliver(gateways, voided_there, K.PAYMENT_VOIDED)

    assert outcome.applied
    assert await state(gateways, voided_there.id) == await state(ours, voided_by_us.id)
    assert (await state(gateways, voided_there.id))[:3] == (P.VOIDED, None, S.PENDING_PAYMENT)


async def test_a_void_delivered_twice_is_recorded_once(shop: Shop) -> None:
    authorized = await opened(shop, "tok_visa")
    await deliver(shop, authorized, K.PAYMENT_VOIDED, id="evt_void")
    before = await shop.events()

    again = await deliver(shop, authorized, K.PAYMENT_VOIDED, id="evt_void")
    other_copy = await deliver(shop, authorized, K.PAYMENT_VOIDED, id="evt_void_2")

    assert (again.applied, other_copy.applied) == (False, False)
    assert await shop.events() == before


async def test_a_void_arriving_after_a_capture_changes_nothing(shop: Shop) -> None:
    authorized = await opened(shop, "tok_visa")
    await shop.capture(authorized.id)
    before = await shop.events()

    outcome = await deliver(shop, authorized, K.PAYMENT_VOIDED)

    assert not outcome.applied
    assert await shop.events() == before
    assert (await shop.payment(authorized.id)).status is P.CAPTURED
    assert outcome.attention == "the gateway cancelled a captured payment"


async def test_a_capture_arriving_after_a_void_leaves_it_voided_with_a_note(shop: Shop) -> None:
    authorized = await opened(shop, "tok_visa")
    await deliver(shop, authorized, K.PAYMENT_VOIDED)
    before = await shop.events()

    outcome = await deliver(shop, authorized, K.PAYMENT_SUCCEEDED, amount=usd(2000))

    assert not outcome.applied
    assert await shop.events() == before
    assert (outcome.payment.status, outcome.attention) == (
        P.VOIDED,
        "the gateway captured 20.00 USD on a voided payment",
    )


@pytest.mark.parametrize(
    ("first", "second", "code"),
    [
        (K.PAYMENT_AUTHORIZED, K.PAYMENT_VOIDED, None),  # 3-D Secure passed, then cancelled
        (K.PAYMENT_FAILED, K.PAYMENT_VOIDED, "insufficient_funds"),  # declined, then cancelled
    ],
    ids=["authorized-then-voided", "declined-then-voided"],
)
async def test_what_the_gateway_did_before_cancelling_ends_the_same_in_either_order(
    first: K, second: K, code: str | None
) -> None:
    outcomes = []
    for kinds in ([first, second], [second, first]):
        shop = await a_shop()
        waiting = await opened(shop, "tok_3ds")
        for kind in kinds:
            await deliver(shop, waiting, kind, code=code)
        outcomes.append(await state(shop, waiting.id))

    assert outcomes[0] == outcomes[1]
    expected = (P.VOIDED, None) if code is None else (P.FAILED, code)
    assert outcomes[0][:2] == expected


# Refund events that name our refund id


async def test_a_refund_whose_save_failed_is_recorded_under_our_id_and_a_retry_counts_it_once(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment
    ctx = keyed("refund-1")
    shop.store.passing_appends = 1  # the intent is recorded ...
    shop.store.failing_appends = 1
    with pytest.raises(EventStoreError):
        await shop.refund_payment(charged.id, 500, ctx)  # ... Stripe refunded; our save failed
    gateway_refund_id = "re_fake_000001"  # the fake gateway's first refund
    ours = shop.gateway.refund_metadata(gateway_refund_id)

    outcome = await deliver(
        shop,
        charged,
        K.REFUND_SUCCEEDED,
        refund_id=UUID(ours["refund_id"]),
        gateway_refund_id=gateway_refund_id,
        amount=usd(500),
    )
    retried = await shop.refund_payment(charged.id, 500, ctx)

    assert outcome.applied
    assert (retried.id, retried.status) == (UUID(ours["refund_id"]), RefundStatus.SUCCEEDED)
    payment = await shop.payment(charged.id)
    assert [(r.id, r.amount, r.gateway_refund_id) for r in payment.refunds] == [
        (retried.id, usd(500), gateway_refund_id)
    ]
    assert (payment.refunded, (await shop.order(order.id)).refunded) == (usd(500), usd(500))
    assert (await shop.gateway.retrieve(charged.gateway_payment_id or "")).refunded == usd(500)


async def test_a_refund_event_naming_a_refund_we_recorded_records_nothing_more(
    shop: Shop,
) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment
    refund = await shop.refund_payment(charged.id, 700)
    before = await shop.events()

    outcome = await deliver(
        shop,
        charged,
        K.REFUND_SUCCEEDED,
        refund_id=refund.id,
        gateway_refund_id="re_fake_000001",
        amount=usd(700),
    )

    assert not outcome.applied
    assert await shop.events() == before


async def test_a_failed_refund_we_never_recorded_changes_nothing(shop: Shop) -> None:
    order = await shop.place(("MUG-1", 2))
    charged = (await shop.charge(order.id)).payment
    before = await shop.events()

    outcome = await deliver(
        shop, charged, K.REFUND_FAILED, refund_id=uuid.uuid4(), gateway_refund_id="re_x", code="x"
    )

    assert not outcome.applied
    assert await shop.events() == before
