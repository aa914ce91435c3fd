"""Integration events derived from an order's life: which, with what ids, and what they omit."""

from __future__ import annotations

from uuid import UUID

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.relay import MemoryPublisher, MemoryRelayCheckpoint
from commerce_core.eventstore import Repository
from commerce_core.eventstore.records import START
from commerce_core.integration import (
    EVENT_TYPES,
    IntegrationEvent,
    IntegrationEventType,
    decode_integration_event,
    encode_integration_event,
    integration_event_id,
    integration_events_of,
)
from commerce_core.integration.relay import Relay
from tests.privacy import in_the_clear
from tests.unit.order_story import TENANT, Clock, Story, tell_story

T = IntegrationEventType


async def story_store() -> tuple[MemoryEventStore, Story]:
    store = MemoryEventStore()
    story = await tell_story(Repository(store), Clock())
    return store, story


async def derived(store: MemoryEventStore) -> list[IntegrationEvent]:
    return [i for e in await store.read_all(START, limit=10_000) for i in integration_events_of(e)]


async def test_an_orders_life_gives_the_documented_events_in_order() -> None:
    store, story = await story_store()
    events = await derived(store)
    of_order = [e.type for e in events if e.partition == story.order_id]
    assert of_order == [T.ORDER_PLACED, T.ORDER_PAID, T.ORDER_REFUNDED, T.ORDER_SHIPPED]
    of_payment = [e.type for e in events if e.partition == story.payment_id]
    assert of_payment == [T.PAYMENT_CREATED, T.PAYMENT_CAPTURED, T.PAYMENT_REFUNDED]
    failed = [e.type for e in events if e.partition == story.failed_payment_id]
    assert failed == [T.PAYMENT_CREATED, T.PAYMENT_FAILED]
    assert {e.tenant for e in events} == {TENANT}


async def test_deriving_again_gives_the_same_ids() -> None:
    store, _ = await story_store()
    first, again = await derived(store), await derived(store)
    assert [e.id for e in first] == [e.id for e in again]
    assert len({e.id for e in first}) == len(first)


async def test_payloads_hold_no_personal_data() -> None:
    store, _ = await story_store()
    text = "".join(encode_integration_event(e).decode() for e in await derived(store))
    left = in_the_clear(text)
    for personal in ("Mug", "chipped", "card_declined_", "@", "key:1", "ops"):
        assert personal not in left


async def test_an_event_reads_back_as_published() -> None:
    store, _ = await story_store()
    for event in await derived(store):
        assert decode_integration_event(encode_integration_event(event)) == event


def test_every_type_has_a_payload_with_a_json_schema() -> None:
    assert set(EVENT_TYPES) == set(IntegrationEventType)
    for spec in EVENT_TYPES.values():
        assert msgspec.json.schema(spec.payload)["$ref"]


@given(st.uuids(), st.sampled_from(list(IntegrationEventType)))
def test_ids_depend_on_the_domain_event_and_the_type(event_id: UUID, kind: T) -> None:
    same = integration_event_id(event_id, kind)
    assert same == integration_event_id(event_id, kind)
    others = {integration_event_id(event_id, k) for k in IntegrationEventType if k != kind}
    assert same not in others


async def test_the_relay_publishes_everything_once_and_moves_its_checkpoint() -> None:
    store, _ = await story_store()
    publisher, checkpoint = MemoryPublisher(), MemoryRelayCheckpoint()
    relay = Relay(store, publisher, checkpoint, batch_size=3)
    while await relay.relay_batch():
        pass
    expected = await derived(store)
    assert sorted(e.id for e in publisher.published) == sorted(e.id for e in expected)
    for partition in {e.partition for e in expected}:
        sent = [e.id for e in publisher.published if e.partition == partition]
        assert sent == [e.id for e in expected if e.partition == partition]
    status = await relay.status()
    assert status.position == status.head
    assert status.lag == 0
