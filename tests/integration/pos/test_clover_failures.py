"""Clover when things go wrong: its error answers, 5xx, rate limits, unreadable answers, a
wrong token, a push cut off half way, orders we cannot represent, and webhooks that do not
carry the app's auth code."""

from __future__ import annotations

import json

import pytest

from adapters.clover.pos import CloverPos
from commerce_core.channels.ports import (
    InvalidSignatureError,
    PosCount,
    PosError,
    PosFulfilmentKind,
    PosFulfilmentState,
    PosLineDraft,
    PosOrderDraft,
    PosRateLimitedError,
    PosRefusedError,
    PosUnavailableError,
    UnknownPosOrderError,
)
from commerce_core.shared.money import Money
from tests.integration.carriers.vendor_server import Answer
from tests.integration.pos.clover_running import clover
from tests.integration.pos.clover_world import MERCHANT, T0, CloverWorld, error

DRAFT = PosOrderDraft(
    reference_id="order-1",
    location_id=MERCHANT,
    lines=[PosLineDraft(sku="MUG", name="Mug", quantity=3, unit_price=Money(1250, "USD"))],
    kind=PosFulfilmentKind.PICKUP,
    recipient="Ada Lovelace",
)
URL = "https://shop.example/webhooks/clover"


async def test_a_400_is_a_refusal_with_clover_s_message() -> None:
    async with clover() as (pos, world, _):
        world.fail_next(error(400, "Invalid price"))

        with pytest.raises(PosRefusedError) as refusal:
            await pos.list_locations()

    assert "Invalid price" in str(refusal.value)
    assert not isinstance(refusal.value, PosUnavailableError)


async def test_a_push_cut_off_after_the_order_was_created_is_finished_once_by_its_retry() -> None:
    async with clover() as (pos, world, server):
        world.fail_next_at("bulk_line_items", error(503, "Service Unavailable"))

        with pytest.raises(PosUnavailableError):
            await pos.push_order(DRAFT, idempotency_key="push-1")
        first = await pos.push_order(DRAFT, idempotency_key="push-1")
        again = await pos.push_order(DRAFT, idempotency_key="push-1")

        assert first.external_id == again.external_id
        [order] = world.orders.values()
        assert len(order["lineItems"]) == 3
        assert order["total"] == 3750
        posted = [r for r in server.received if r.path.endswith("bulk_line_items")]
        assert len(posted) == 2  # the failed one and the one that finished


async def test_a_rate_limit_says_how_long_to_wait() -> None:
    async with clover() as (pos, world, _):
        world.fail_next(Answer(429, {"message": "Too Many Requests"}, headers={"Retry-After": "7"}))

        with pytest.raises(PosRateLimitedError) as limited:
            await pos.pull_orders(location_ids=[MERCHANT], cursor=None)

    assert limited.value.retry_after_seconds == 7.0


async def test_a_5xx_and_an_unreadable_answer_are_worth_asking_again() -> None:
    async with clover() as (pos, world, _):
        world.fail_next(error(502, "Bad Gateway"))
        world.fail_next(Answer(200, raw=b'{"elements": [ not json'))

        with pytest.raises(PosUnavailableError):
            await pos.pull_orders(location_ids=[MERCHANT], cursor=None)
        with pytest.raises(PosUnavailableError):
            await pos.pull_orders(location_ids=[MERCHANT], cursor=None)


async def test_a_wrong_token_is_refused() -> None:
    async with clover(CloverWorld()) as (pos, world, _):
        world.access_token = "rotated"

        with pytest.raises(PosRefusedError) as refusal:
            await pos.list_locations()

    assert refusal.value.code == "UNAUTHORIZED"


async def test_an_item_sold_by_weight_is_not_taken_as_a_whole_number() -> None:
    async with clover() as (pos, world, _):
        external_id = world.till().ring_up([("CHEESE", 1, 2000)])
        world.orders[external_id]["lineItems"][0]["unitQty"] = 350

        with pytest.raises(PosError, match="fractional quantity"):
            await pos.pull_orders(location_ids=[MERCHANT], cursor=None)


async def test_an_order_rung_up_at_the_till_is_not_ours_to_move_and_an_unknown_one_is_refused() -> (
    None
):
    async with clover() as (pos, world, _):
        external_id = world.till().ring_up([("MUG", 1, 1250)])

        with pytest.raises(PosRefusedError, match="not pushed by us"):
            await pos.update_fulfilment(
                external_id, PosFulfilmentState.PREPARED, idempotency_key="move-1"
            )
        with pytest.raises(UnknownPosOrderError):
            await pos.update_fulfilment("NOSUCH1", PosFulfilmentState.PREPARED, idempotency_key="m")


async def test_counts_for_another_location_are_refused_before_anything_is_sent() -> None:
    async with clover() as (pos, world, server):
        with pytest.raises(PosRefusedError):
            await pos.push_counts(
                [
                    PosCount(item_id="ITEMMUG", location_id=MERCHANT, quantity=1, counted_at=T0),
                    PosCount(item_id="ITEMTEA", location_id="OTHER", quantity=1, counted_at=T0),
                ],
                idempotency_key="c1",
            )

        assert server.received == []
        assert world.counts == {}


def _pos(auth_code: str = "code-1") -> CloverPos:
    return CloverPos(
        merchant_id=MERCHANT, access_token="t", auth_code=auth_code, base_url="http://x"
    )


def _delivery(merchants: dict[str, list[dict[str, object]]]) -> bytes:
    return json.dumps({"appId": "APP1", "merchants": merchants}).encode()


async def test_a_webhook_without_the_auth_code_or_with_another_is_refused() -> None:
    pos = _pos()
    body = _delivery({MERCHANT: [{"objectId": "O:ABC", "type": "UPDATE", "ts": 1}]})

    for headers in ({}, {"X-Clover-Auth": "code-2"}, {"X-Clover-Auth": "code-1 "}):
        with pytest.raises(InvalidSignatureError):
            pos.verify_webhook(body, headers, URL)
    with pytest.raises(InvalidSignatureError):  # a connection with no code yet takes nothing
        _pos(auth_code="").verify_webhook(body, {"X-Clover-Auth": ""}, URL)
    await pos.aclose()


async def test_a_delivery_s_events_are_this_merchant_s_each_with_its_own_stable_id() -> None:
    pos = _pos()
    body = _delivery(
        {
            MERCHANT: [
                {"objectId": "O:ABC", "type": "CREATE", "ts": 1700000000000},
                {"objectId": "O:ABC", "type": "UPDATE", "ts": 1700000000500},
                {"objectId": "I:ITEM1", "type": "UPDATE", "ts": 1700000000600},
            ],
            "OTHERMERCHANT": [{"objectId": "O:XYZ", "type": "UPDATE", "ts": 1}],
        }
    )

    events = pos.verify_webhook(body, {"x-clover-auth": "code-1"}, URL)
    again = pos.verify_webhook(body, {"x-clover-auth": "code-1"}, URL)

    assert [e.event_id for e in events] == [e.event_id for e in again]
    assert len({e.event_id for e in events}) == 3
    assert [(e.kind.value, e.external_id) for e in events] == [
        ("order_created", "ABC"),
        ("order_updated", "ABC"),
        ("inventory_updated", None),
    ]
    await pos.aclose()


async def test_a_malformed_delivery_with_the_right_code_is_not_acted_on() -> None:
    pos = _pos()

    for body in (b"{", b'{"merchants": [1]}', _delivery({MERCHANT: [{"type": "UPDATE"}]})):
        with pytest.raises(PosRefusedError):
            pos.verify_webhook(body, {"X-Clover-Auth": "code-1"}, URL)
    await pos.aclose()
