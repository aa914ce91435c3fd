"""Replay for investigations: an order's timeline with everything related, and time travel."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta

import pytest

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import AggregateNotFoundError, EventMetadata, Repository
from commerce_core.inventory.stock import StockItem
from commerce_core.investigations.audit import export_events
from commerce_core.investigations.replay import (
    AsOf,
    TimelineEvent,
    order_timeline,
    payment_timeline,
    state_of,
)
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.payment import PaymentStatus
from commerce_core.shared.errors import InvalidValueError
from tests.unit.order_story import MUG, T0, TENANT, Clock, Story, place, tell_story, usd


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def story(clock: Clock) -> Story:
    return await tell_story(Repository(MemoryEventStore(clock=clock)), clock)


def kinds(events: Sequence[TimelineEvent]) -> list[str]:
    return [e.type for e in events]


async def test_an_order_timeline_merges_related_streams_in_global_order(story: Story) -> None:
    timeline = await order_timeline(story.repo, story.order_id, tenant_id=TENANT)

    assert kinds(timeline.events) == [
        "Order.Placed",
        "OrderLedger.Started",
        "StockItem.Reserved",
        "Payment.Created",
        "Payment.Failed",
        "OrderLedger.PaymentAdded",
        "Order.PaymentFailed",
        "Payment.Created",
        "Payment.Authorized",
        "Payment.Captured",
        "OrderLedger.PaymentAdded",
        "Order.PaymentRecorded",
        "StockItem.Committed",
        "Payment.RefundRequested",
        "Payment.RefundSucceeded",
        "Order.RefundRecorded",
        "Shipment.Created",
        "Order.ShipmentRecorded",
    ]
    positions = [e.position for e in timeline.events]
    assert positions == sorted(positions)
    assert timeline.state is not None
    assert timeline.state.status is OrderStatus.SHIPPED


async def test_stock_events_of_other_orders_and_receipts_are_left_out(story: Story) -> None:
    timeline = await order_timeline(story.repo, story.order_id)

    stock_events = [e for e in timeline.events if e.stream_type == "StockItem"]
    assert [e.data["order_id"] for e in stock_events] == [str(story.order_id)] * 2
    assert all(e.stream == StockItem.id_for(TENANT, MUG) for e in stock_events)


async def test_each_event_carries_its_stream_version_time_payload_and_metadata(
    story: Story,
) -> None:
    timeline = await order_timeline(story.repo, story.order_id)

    refund = next(e for e in timeline.events if e.type == "Payment.RefundRequested")
    assert refund.stream == story.payment_id
    assert refund.stream_type == "Payment"
    assert refund.version == 4
    assert refund.at == T0 + timedelta(minutes=5)
    assert refund.data["amount"] == {"amount": 500, "currency": "USD"}
    assert refund.data["reason"] == "chipped"
    assert refund.metadata == {
        "tenant_id": TENANT,
        "actor": "key:2",
        "correlation_id": "refund",
        "causation_id": "c-refund",
    }


async def test_as_of_a_version_gives_that_state_and_the_events_up_to_its_append(
    story: Story,
) -> None:
    timeline = await order_timeline(story.repo, story.order_id, as_of=AsOf(version=2))

    assert timeline.state is not None
    assert timeline.state.version == 2
    assert timeline.state.status is OrderStatus.PAYMENT_FAILED
    assert kinds(timeline.events)[-4:] == [
        "Payment.Created",
        "Payment.Failed",
        "OrderLedger.PaymentAdded",
        "Order.PaymentFailed",
    ]


async def test_as_of_an_instant_gives_the_last_state_recorded_by_then(story: Story) -> None:
    moment = T0 + timedelta(minutes=4, seconds=30)

    timeline = await order_timeline(story.repo, story.order_id, as_of=AsOf(at=moment))

    assert timeline.state is not None
    assert timeline.state.status is OrderStatus.PAID
    assert timeline.state.refunded == usd(0)
    assert all(e.at <= moment for e in timeline.events)
    assert kinds(timeline.events)[-1] == "StockItem.Committed"


async def test_as_of_an_instant_before_the_order_has_no_state_and_no_events(
    story: Story,
) -> None:
    timeline = await order_timeline(story.repo, story.order_id, as_of=AsOf(at=T0))

    assert timeline.state is None
    assert timeline.events == []


async def test_another_tenant_cannot_replay_the_order(story: Story) -> None:
    with pytest.raises(AggregateNotFoundError):
        await order_timeline(story.repo, story.order_id, tenant_id="tenant-b")
    with pytest.raises(AggregateNotFoundError):
        await payment_timeline(story.repo, story.payment_id, tenant_id="tenant-b")


async def test_an_id_of_another_kind_is_not_an_order(story: Story) -> None:
    with pytest.raises(AggregateNotFoundError):
        await order_timeline(story.repo, story.payment_id)
    with pytest.raises(AggregateNotFoundError):
        await order_timeline(story.repo, uuid.uuid4())


async def test_a_version_beyond_the_last_is_refused(story: Story) -> None:
    with pytest.raises(InvalidValueError):
        await order_timeline(story.repo, story.order_id, as_of=AsOf(version=99))


async def test_a_payment_timeline_replays_its_refunds_and_state_as_of(story: Story) -> None:
    now = await payment_timeline(story.repo, story.payment_id, tenant_id=TENANT)
    before_refund = await payment_timeline(story.repo, story.payment_id, as_of=AsOf(version=3))

    assert kinds(now.events) == [
        "Payment.Created",
        "Payment.Authorized",
        "Payment.Captured",
        "Payment.RefundRequested",
        "Payment.RefundSucceeded",
    ]
    assert now.state is not None
    assert now.state.status is PaymentStatus.PARTIALLY_REFUNDED
    assert before_refund.state is not None
    assert before_refund.state.status is PaymentStatus.CAPTURED
    assert state_of(before_refund.state)["refunded"] == {"amount": 0, "currency": "USD"}
    assert state_of(before_refund.state)["version"] == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", AsOf(version=3)),
        ("2026-03-01T09:04:30Z", AsOf(at=T0 + timedelta(minutes=4, seconds=30))),
        ("2026-03-01T10:04:30+01:00", AsOf(at=T0 + timedelta(minutes=4, seconds=30))),
    ],
)
def test_as_of_reads_a_version_or_an_rfc3339_timestamp(text: str, expected: AsOf) -> None:
    assert AsOf.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["0", "yesterday", "2026-03-01T09:00:00", "", "\u00b3", "\u0663", "9" * 5000]
)
def test_as_of_refuses_what_is_neither(text: str) -> None:
    with pytest.raises(InvalidValueError):
        AsOf.parse(text)


async def test_the_audit_export_holds_one_tenants_events_within_the_window(
    story: Story, clock: Clock
) -> None:
    await story.repo.save(
        place(uuid.uuid4(), "ORD-000009", clock.at(7)),
        metadata=EventMetadata(tenant_id="tenant-b"),
    )

    everything = [r async for r in export_events(story.repo.store, TENANT, batch_size=4)]
    window = [
        r
        async for r in export_events(
            story.repo.store,
            TENANT,
            since=T0 + timedelta(minutes=1),
            until=T0 + timedelta(minutes=3),
            batch_size=4,
        )
    ]

    assert {r.tenant_id for r in everything} == {TENANT}
    assert len(everything) == 24  # 4 + 3 + 2 + 4 + 6 + 3 + 2 appended by the story
    assert [r.position for r in everything] == sorted(r.position for r in everything)
    assert {r.correlation_id for r in window} == {"place", "place-other"}
    assert window[0].name == "Placed"
    assert window[0].stream_type == "Order"
