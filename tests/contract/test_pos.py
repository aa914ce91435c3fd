"""The POS contract: every PointOfSale adapter passes these tests.

The Square adapter runs on the official SDK against a local HTTP server that checks every
request against Square's published OpenAPI document and every answer too
(tests/integration/pos); the server's spec violations fail the test. The Clover adapter runs
against a local server that checks requests and answers against what Clover's public docs
say (Clover publishes no OpenAPI document; tests/integration/pos/clover_world.py).

Clover's webhooks carry a shared auth code, not a signature over the body and URL: the two
cases that change the body or the URL hold only for the POSes that sign (``SIGNING``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.pos import FakePos
from commerce_core.channels.ports import (
    InvalidSignatureError,
    PointOfSale,
    PosCount,
    PosEvent,
    PosEventKind,
    PosFulfilmentKind,
    PosFulfilmentState,
    PosLineDraft,
    PosOrderDraft,
    PosRefusedError,
    UnknownPosOrderError,
)
from commerce_core.shared.money import Money
from tests.integration.pos import clover_running, square_running
from tests.integration.pos.till import Till

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
URL = "https://shop.example/webhooks/square"
Running = tuple[PointOfSale, Till]


class FakeTill:
    def __init__(self, pos: FakePos, clock: FixedClock) -> None:
        self.pos = pos
        self.clock = clock
        self.location_id = "L1"

    def ring_up(self, lines: list[tuple[str, int, int]]) -> str:
        self.clock.advance(timedelta(minutes=1))
        order = self.pos.ring_up(
            self.location_id, [(sku, n, Money(price, "USD")) for sku, n, price in lines]
        )
        return order.external_id

    def item_id(self, sku: str) -> str:
        return sku

    def move_fulfilment(self, external_id: str, state: PosFulfilmentState) -> None:
        self.clock.advance(timedelta(minutes=1))
        self.pos.move_fulfilment(external_id, state)

    def count(self, item_id: str) -> int | None:
        return self.pos.counts.get((item_id, self.location_id))

    def signed_delivery(self, event_id: str, external_id: str) -> tuple[bytes, dict[str, str]]:
        event = PosEvent(
            event_id=event_id,
            kind=PosEventKind.ORDER_UPDATED,
            vendor_type="order_updated",
            merchant_id="fake-merchant",
            occurred_at=self.clock.now(),
            external_id=external_id,
            location_id=self.location_id,
        )
        return self.pos.signed_delivery(URL, event)


@asynccontextmanager
async def fake() -> AsyncIterator[Running]:
    clock = FixedClock(T0)
    pos = FakePos(clock)
    yield pos, FakeTill(pos, clock)


@asynccontextmanager
async def square() -> AsyncIterator[Running]:
    async with square_running.square() as (pos, world, _):
        yield pos, world.till()


@asynccontextmanager
async def clover() -> AsyncIterator[Running]:
    async with clover_running.clover() as (pos, world, _):
        yield pos, world.till()


POS: dict[str, Callable[[], AbstractAsyncContextManager[Running]]] = {
    "clover": clover,
    "fake": fake,
    "square": square,
}
SIGNING = {"fake", "square"}


@pytest.fixture(params=sorted(POS))
async def running_pos(request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    async with POS[request.param]() as found:
        yield found


@pytest.fixture
def pos(running_pos: Running) -> PointOfSale:
    return running_pos[0]


@pytest.fixture
def till(running_pos: Running) -> Till:
    return running_pos[1]


def draft(
    reference: str = "order-1", location: str | None = None, sku: str = "MUG"
) -> PosOrderDraft:
    return PosOrderDraft(
        reference_id=reference,
        location_id=location or "",
        lines=[PosLineDraft(sku="MUG", name="Mug", quantity=2, unit_price=Money(1250, "USD"))],
        kind=PosFulfilmentKind.PICKUP,
        recipient="Ada Lovelace",
    )


async def test_the_locations_include_the_till(pos: PointOfSale, till: Till) -> None:
    locations = await pos.list_locations()

    assert till.location_id in {location.location_id for location in locations}


async def test_a_sale_at_the_till_is_pulled_with_its_lines_totals_and_tenders(
    pos: PointOfSale, till: Till
) -> None:
    external_id = till.ring_up([("MUG", 2, 1250), ("TEA", 1, 500)])

    page = await pos.pull_orders(location_ids=[till.location_id], cursor=None)

    [order] = page.orders
    assert order.external_id == external_id
    assert order.location_id == till.location_id
    assert order.reference_id is None
    assert [(line.item_id, line.quantity, line.unit_price) for line in order.lines] == [
        (till.item_id("MUG"), 2, Money(1250, "USD")),
        (till.item_id("TEA"), 1, Money(500, "USD")),
    ]
    assert order.total == Money(3000, "USD")
    assert sum(tender.amount.amount for tender in order.tenders) == 3000
    assert not page.more


async def test_pulling_from_the_cursor_returns_only_what_changed_since(
    pos: PointOfSale, till: Till
) -> None:
    first = till.ring_up([("MUG", 1, 1250)])
    page = await pos.pull_orders(location_ids=[till.location_id], cursor=None)
    second = till.ring_up([("TEA", 1, 500)])

    later = await pos.pull_orders(location_ids=[till.location_id], cursor=page.cursor)

    assert second in {order.external_id for order in later.orders}
    assert [order.external_id for order in page.orders] == [first]


async def test_a_change_brings_the_order_back_with_a_higher_version(
    pos: PointOfSale, till: Till
) -> None:
    external_id = till.ring_up([("MUG", 1, 1250)])
    [before] = (await pos.pull_orders(location_ids=[till.location_id], cursor=None)).orders
    cursor = (await pos.pull_orders(location_ids=[till.location_id], cursor=None)).cursor
    till.move_fulfilment(external_id, PosFulfilmentState.PREPARED)

    page = await pos.pull_orders(location_ids=[till.location_id], cursor=cursor)

    [after] = [order for order in page.orders if order.external_id == external_id]
    assert after.version > before.version
    assert after.fulfilment is PosFulfilmentState.PREPARED


async def test_a_full_page_says_there_is_more(pos: PointOfSale, till: Till) -> None:
    ids = [till.ring_up([("MUG", 1, 1250)]) for _ in range(3)]

    first = await pos.pull_orders(location_ids=[till.location_id], cursor=None, limit=2)
    rest = await pos.pull_orders(location_ids=[till.location_id], cursor=first.cursor, limit=2)

    assert first.more
    assert len(first.orders) == 2
    seen = [order.external_id for order in first.orders + rest.orders]
    assert set(seen) == set(ids)


async def test_a_pushed_order_is_created_once_per_key_and_carries_our_reference(
    pos: PointOfSale, till: Till
) -> None:
    order = draft(location=till.location_id)

    pushed = await pos.push_order(order, idempotency_key="push-1")
    again = await pos.push_order(order, idempotency_key="push-1")
    other = await pos.push_order(draft("order-2", till.location_id), idempotency_key="push-2")

    assert again.external_id == pushed.external_id
    assert other.external_id != pushed.external_id
    page = await pos.pull_orders(location_ids=[till.location_id], cursor=None)
    [found] = [o for o in page.orders if o.external_id == pushed.external_id]
    assert found.reference_id == "order-1"
    assert [(line.sku, line.quantity) for line in found.lines] == [("MUG", 2)]
    assert found.total == Money(2500, "USD")
    assert found.fulfilment is PosFulfilmentState.PROPOSED


async def test_a_key_used_for_another_order_is_refused(pos: PointOfSale, till: Till) -> None:
    await pos.push_order(draft(location=till.location_id), idempotency_key="push-1")

    with pytest.raises(PosRefusedError):
        await pos.push_order(draft("order-9", till.location_id), idempotency_key="push-1")


async def test_a_push_to_an_unknown_location_is_refused(pos: PointOfSale) -> None:
    with pytest.raises(PosRefusedError):
        await pos.push_order(draft(location="NOWHERE"), idempotency_key="push-1")


async def test_our_fulfilment_change_shows_on_the_till(pos: PointOfSale, till: Till) -> None:
    pushed = await pos.push_order(draft(location=till.location_id), idempotency_key="push-1")

    moved = await pos.update_fulfilment(
        pushed.external_id, PosFulfilmentState.RESERVED, idempotency_key="move-1"
    )
    again = await pos.update_fulfilment(
        pushed.external_id, PosFulfilmentState.RESERVED, idempotency_key="move-1"
    )

    assert moved.version > pushed.version
    assert again == moved
    page = await pos.pull_orders(location_ids=[till.location_id], cursor=None)
    [found] = [o for o in page.orders if o.external_id == pushed.external_id]
    assert found.fulfilment is PosFulfilmentState.RESERVED


async def test_updating_an_unknown_order_is_refused(pos: PointOfSale) -> None:
    with pytest.raises(UnknownPosOrderError):
        await pos.update_fulfilment(
            "NO-SUCH-ORDER", PosFulfilmentState.PREPARED, idempotency_key="move-1"
        )


async def test_counts_are_set_in_one_batch(pos: PointOfSale, till: Till) -> None:
    counts = [
        PosCount(item_id="ITEM-MUG", location_id=till.location_id, quantity=7, counted_at=T0),
        PosCount(item_id="ITEM-TEA", location_id=till.location_id, quantity=0, counted_at=T0),
    ]

    await pos.push_counts(counts, idempotency_key="counts-1")

    assert (till.count("ITEM-MUG"), till.count("ITEM-TEA")) == (7, 0)


async def test_a_signed_webhook_is_verified_and_a_replay_keeps_its_event_id(
    pos: PointOfSale, till: Till
) -> None:
    external_id = till.ring_up([("MUG", 1, 1250)])
    body, headers = till.signed_delivery("event-1", external_id)

    [event] = pos.verify_webhook(body, headers, URL)
    [replayed] = pos.verify_webhook(body, headers, URL)

    assert event.event_id == replayed.event_id
    assert event.event_id == "event-1" or pos.name == "clover"  # Clover names no event
    assert event.external_id == external_id
    assert event.kind in {PosEventKind.ORDER_UPDATED, PosEventKind.FULFILMENT_UPDATED}


async def test_a_changed_body_fails_the_signature(pos: PointOfSale, till: Till) -> None:
    if pos.name not in SIGNING:
        pytest.skip("Clover's X-Clover-Auth code does not bind the body")
    body, headers = till.signed_delivery("event-1", till.ring_up([("MUG", 1, 1250)]))

    with pytest.raises(InvalidSignatureError):
        pos.verify_webhook(body.replace(b"event-1", b"event-2"), headers, URL)


async def test_a_signature_for_another_url_is_refused(pos: PointOfSale, till: Till) -> None:
    if pos.name not in SIGNING:
        pytest.skip("Clover's X-Clover-Auth code does not bind the URL")
    body, headers = till.signed_delivery("event-1", till.ring_up([("MUG", 1, 1250)]))

    with pytest.raises(InvalidSignatureError):
        pos.verify_webhook(body, headers, "https://evil.example/webhooks/square")


async def test_an_unsigned_delivery_is_refused(pos: PointOfSale, till: Till) -> None:
    body, _ = till.signed_delivery("event-1", till.ring_up([("MUG", 1, 1250)]))

    with pytest.raises(InvalidSignatureError):
        pos.verify_webhook(body, {}, URL)
