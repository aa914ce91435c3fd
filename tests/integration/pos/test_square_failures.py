"""Square when things go wrong: its 400 error bodies, 5xx, rate limits, unreadable
answers, a wrong token, orders we cannot represent, and webhooks that are not Square's."""

from __future__ import annotations

import json

import pytest

from commerce_core.channels.ports import (
    InvalidSignatureError,
    PosError,
    PosFulfilmentKind,
    PosLineDraft,
    PosOrderDraft,
    PosRateLimitedError,
    PosRefusedError,
    PosUnavailableError,
)
from commerce_core.shared.money import Money
from tests.integration.carriers.vendor_server import Answer
from tests.integration.pos.square_running import square
from tests.integration.pos.square_world import (
    WEBHOOK_URL,
    SquareWorld,
    error,
    refused,
    sign,
)

DRAFT = PosOrderDraft(
    reference_id="order-1",
    location_id="L1",
    lines=[PosLineDraft(sku="MUG", name="Mug", quantity=1, unit_price=Money(1250, "USD"))],
    kind=PosFulfilmentKind.SHIPMENT,
    recipient="Ada Lovelace",
)


async def test_a_400_is_a_refusal_with_square_s_code_and_detail() -> None:
    async with square() as (pos, world, _):
        world.fail_next(refused("INVALID_VALUE", "line_items[0].quantity is too large"))

        with pytest.raises(PosRefusedError) as refusal:
            await pos.push_order(DRAFT, idempotency_key="push-1")

    assert refusal.value.code == "INVALID_VALUE"
    assert "quantity is too large" in str(refusal.value)
    assert not isinstance(refusal.value, PosUnavailableError)


async def test_a_5xx_is_worth_asking_again_and_the_same_key_then_creates_one_order() -> None:
    async with square() as (pos, world, server):
        world.fail_next(error(503, "API_ERROR", "SERVICE_UNAVAILABLE", "try later"))

        with pytest.raises(PosUnavailableError):
            await pos.push_order(DRAFT, idempotency_key="push-1")
        first = await pos.push_order(DRAFT, idempotency_key="push-1")
        again = await pos.push_order(DRAFT, idempotency_key="push-1")

        assert first == again
        assert len(world.orders) == 1
        # the SDK's own retries are off: one request per call
        assert len(server.received) == 3


async def test_a_rate_limit_says_how_long_to_wait() -> None:
    async with square() as (pos, world, _):
        limited = error(429, "RATE_LIMIT_ERROR", "RATE_LIMITED", "slow down")
        world.fail_next(limited)

        with pytest.raises(PosRateLimitedError):
            await pos.list_locations()


async def test_an_unreadable_answer_is_worth_asking_again() -> None:
    async with square() as (pos, world, _):
        world.fail_next(Answer(200, raw=b'{"orders": [ not json'))

        with pytest.raises(PosUnavailableError):
            await pos.pull_orders(location_ids=["L1"], cursor=None)


async def test_a_wrong_token_is_refused() -> None:
    async with square(SquareWorld()) as (pos, world, _):
        world.access_token = "rotated"

        with pytest.raises(PosRefusedError) as refusal:
            await pos.list_locations()

    assert refusal.value.code == "UNAUTHORIZED"


async def test_an_item_sold_by_weight_is_not_taken_as_a_whole_number() -> None:
    async with square() as (pos, world, _):
        till = world.till()
        external_id = till.ring_up([("CHEESE", 1, 2000)])
        world.orders[external_id]["line_items"][0]["quantity"] = "0.35"

        with pytest.raises(PosError, match="fractional quantity"):
            await pos.pull_orders(location_ids=["L1"], cursor=None)


async def test_a_bad_signature_is_refused_and_a_good_one_over_a_broken_body_is_not_acted_on() -> (
    None
):
    async with square() as (pos, world, _):
        body = b'{"type": "order.updated"'

        with pytest.raises(InvalidSignatureError):
            pos.verify_webhook(body, {"x-square-hmacsha256-signature": "AAAA"}, WEBHOOK_URL)
        with pytest.raises(PosRefusedError):
            pos.verify_webhook(
                body,
                {"x-square-hmacsha256-signature": sign(world.signature_key, body)},
                WEBHOOK_URL,
            )


async def test_a_webhook_signed_with_another_key_is_refused() -> None:
    async with square() as (pos, world, _):
        body, _ = world.till().signed_delivery("event-1", world.till().ring_up([("MUG", 1, 1)]))

        with pytest.raises(InvalidSignatureError):
            pos.verify_webhook(
                body, {"x-square-hmacsha256-signature": sign("other-key", body)}, WEBHOOK_URL
            )


async def test_a_fulfilment_update_names_the_order_and_location() -> None:
    async with square() as (pos, world, _):
        till = world.till()
        external_id = till.ring_up([("MUG", 1, 1250)])
        body, headers = till.signed_delivery("event-7", external_id)
        payload = json.loads(body)
        payload["type"] = "order.fulfillment.updated"
        payload["data"]["object"] = {
            "order_fulfillment_updated": {"order_id": external_id, "location_id": "L1"}
        }
        body = json.dumps(payload).encode()
        headers = {"X-Square-HmacSha256-Signature": sign(world.signature_key, body)}

        [event] = pos.verify_webhook(body, headers, WEBHOOK_URL)

    assert (event.kind.value, event.external_id, event.location_id) == (
        "fulfilment_updated",
        external_id,
        "L1",
    )
