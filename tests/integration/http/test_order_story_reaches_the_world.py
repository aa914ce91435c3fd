"""Issue 16's "done when", end to end over real HTTP on PostgreSQL with the real outside
parts: an order placed, paid, shipped and refunded gives

- exactly its documented integration events on the real NATS JetStream, once each and in
  order per order, although the relay is stopped abruptly mid-batch (some events acked by
  the broker, its checkpoint not moved) and started again: the re-sent events carry the
  same ``Nats-Msg-Id`` and the server drops them;
- the confirmation, receipt, shipping and refund emails in a real SMTP server (aiosmtpd),
  once each, although two notification workers run at the same time and again after;
- signed deliveries to a real HTTP receiver that checks ``Commerce-Signature`` and fails
  each event's first two attempts: every delivery shows three attempts, retried on a clock
  moved by hand, by two webhook workers at once.

Another tenant's order runs beside it and reaches none of this tenant's subjects,
endpoints or mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from adapters.memory.clock import FixedClock
from adapters.nats import JetStreamPublisher
from commerce_core.eventstore import Position, RecordedEvent
from commerce_core.eventstore.records import START
from commerce_core.integration import (
    IntegrationEvent,
    decode_integration_event,
    integration_events_of,
)
from entrypoints.merchant_webhook_worker import MerchantWebhooks, merchant_webhooks
from entrypoints.relay import running_relay
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_notifications_api import ONLY_PROJECTIONS, World, run
from tests.integration.http.test_operator_and_grants import paid_order
from tests.integration.http.test_orders_api import Shop
from tests.integration.merchant_webhooks.receiver import Receiver, receiving
from tests.integration.notifications.smtp_server import Mailbox, smtp_server

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")

ORDER_EVENTS = ["order.placed", "order.paid", "order.shipped", "order.refunded"]
"""What docs/integration-events.md says an order placed, paid, shipped and refunded gives
on its own partition, in this order."""

TENANT_EVENTS = sorted(
    [*ORDER_EVENTS, "payment.created", "payment.captured", "payment.refunded", "shipment.created"]
)
"""Everything the story gives for its tenant (the payment and shipment partitions too)."""


class Stalling(JetStreamPublisher):
    """Publishes (each event acked by the server) until the order's ``survive``-th event,
    then hangs before the next one, as a relay process would when it is killed there."""

    def __init__(self, stream: str, prefix: str, order_id: uuid.UUID, survive: int) -> None:
        super().__init__(NATS_URL, stream, prefix)
        self.order_id = order_id
        self.left = survive
        self.stalled = asyncio.Event()

    async def publish(self, events: Sequence[IntegrationEvent]) -> None:
        for event in events:
            if event.partition == self.order_id:
                if self.left == 0:
                    self.stalled.set()
                    await asyncio.Event().wait()  # until the task is cancelled
                self.left -= 1
            await super().publish([event])


@dataclasses.dataclass
class Story:
    api: Api
    world: World
    hooks: MerchantWebhooks
    receiver: Receiver
    rival_receiver: Receiver
    rival: Shop
    stream: str
    prefix: str

    @property
    def clock(self) -> FixedClock:
        return self.world.clock

    @property
    def mailbox(self) -> Mailbox:
        return self.world.mailbox


@pytest.fixture
async def js() -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(NATS_URL)
    yield nc.jetstream()
    await nc.close()


@pytest.fixture
async def story(make_api: MakeApi, js: JetStreamContext) -> AsyncIterator[Story]:
    run_id = uuid.uuid4().hex[:10]
    stream, prefix = f"TEST_{run_id.upper()}", f"t{run_id}"
    clock = FixedClock(datetime.now(UTC))
    now = lambda: clock.now().timestamp()  # noqa: E731 - the receivers check t against it
    async with smtp_server() as mailbox, receiving(now=now) as ours, receiving(now=now) as theirs:
        api = await make_api(
            nats_url=NATS_URL,
            nats_stream=stream,
            nats_subject_prefix=prefix,
            smtp_url=mailbox.url,
            email_from="shop@example.com",
            webhook_allow_private=True,  # the receivers listen on 127.0.0.1
            background_work=ONLY_PROJECTIONS,  # the test drives relay and workers itself
        )
        _, key = await api.tenant("acme")
        _, rival_key = await api.tenant("globex")
        container = api.app.state.container
        built = merchant_webhooks(container, container.settings())
        hooks = dataclasses.replace(
            built, dispatch=dataclasses.replace(built.dispatch, clock=clock, jitter=lambda: 1.0)
        )
        world = World(api, Shop(api, key), clock, mailbox)
        try:
            yield Story(api, world, hooks, ours, theirs, Shop(api, rival_key), stream, prefix)
        finally:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(stream)


async def register(shop: Shop, receiver: Receiver) -> str:
    created = await shop.call(
        "POST", "/webhook-endpoints", {"url": receiver.url, "events": ["order.*"]}
    )
    assert created.status_code == 201, created.text
    receiver.secrets.append(created.json()["secret"])
    return str(created.json()["id"])


async def tell_the_story(story: Story) -> dict[str, Any]:
    """Placed and paid, shipped, partly refunded; the rival tenant places an order too."""
    shop = story.world.shop
    order = await paid_order(shop)
    await story.world.reached(order["id"], "paid")
    shipped = await shop.call(
        "POST", f"/orders/{order['id']}/shipments", {"carrier": "ups", "tracking_number": "1Z9"}
    )
    assert shipped.status_code == 201, shipped.text
    refund = await shop.call("POST", f"/payments/{order['payment_id']}/refund", {"amount": 100})
    assert refund.status_code == 201, refund.text
    await story.world.reached(order["id"], "partially_refunded")

    await story.rival.stock_product("MUG-1", 1000, 5)
    theirs = await story.rival.order(("MUG-1", 1), customer={"email": "bob@example.com"})
    assert theirs.status_code == 201, theirs.text
    return {**order, "rival_order_id": theirs.json()["id"]}


async def relay_state(api: Api) -> dict[str, Any]:
    answer = await api.client.get("/api/v1/admin/relay", headers=bearer(await api.operator_key()))
    assert answer.status_code == 200, answer.text
    state: dict[str, Any] = answer.json()
    return state


async def stored_events(api: Api) -> list[RecordedEvent]:
    """Every stored event, in the store's order, once all are visible."""
    store: Any = api.app.state.container.event_store()
    async with asyncio.timeout(20):
        while await store.horizon_lag():  # noqa: ASYNC110 - another test's open transaction
            await asyncio.sleep(0.02)
    stored: list[RecordedEvent] = await store.read_all(START, limit=10_000)
    return stored


async def consume(js: JetStreamContext, stream: str, subject: str) -> list[IntegrationEvent]:
    """Everything a new durable consumer of ``subject`` reads, acking each message."""
    sub = await js.pull_subscribe(subject, durable=f"c{uuid.uuid4().hex[:8]}", stream=stream)
    seen: list[IntegrationEvent] = []
    while True:
        try:
            messages = await sub.fetch(100, timeout=1)
        except TimeoutError:
            return seen
        for message in messages:
            seen.append(decode_integration_event(message.data))
            await message.ack()


async def fan_out_everything(hooks: MerchantWebhooks) -> None:
    """Fans out until every committed event was read (see ``expected_events``)."""
    log: Any = hooks.log
    async with asyncio.timeout(20):
        while True:
            while await hooks.fan_out():
                pass
            caught_up = await hooks.dispatch.deliveries.checkpoint() == await log.head()
            if caught_up and await log.horizon_lag() == 0:
                return
            await asyncio.sleep(0.02)


async def test_an_order_placed_paid_shipped_and_refunded_reaches_the_world_once(
    story: Story, js: JetStreamContext
) -> None:
    api = story.api
    endpoint = await register(story.world.shop, story.receiver)
    await register(story.rival, story.rival_receiver)
    story.receiver.fail_each = 2
    order = await tell_the_story(story)
    order_id = uuid.UUID(order["id"])
    container = api.app.state.container
    checkpoint = container.relay_checkpoint()
    locks = container.projection_locks()

    stored = await stored_events(api)
    expected = [event for recorded in stored for event in integration_events_of(recorded)]
    [shipped_at] = [
        recorded.position
        for recorded in stored
        for event in integration_events_of(recorded)
        if event.partition == order_id and str(event.type) == "order.shipped"
    ]

    mine = [e for e in expected if e.partition == order_id]
    tenant = mine[0].tenant

    # the relay, killed mid-way: the order's first two events acked, the checkpoint unmoved
    killed = Stalling(story.stream, story.prefix, order_id, survive=2)
    async with running_relay(container.event_store(), killed, checkpoint, locks):
        async with asyncio.timeout(20):
            await killed.stalled.wait()
    position = (await relay_state(api))["position"]
    assert Position(position["tx_id"], position["global_position"]) < shipped_at
    before = await consume(js, story.stream, f"{story.prefix}.{tenant}.order.>")
    assert [e.id for e in before if e.partition == order_id] == [e.id for e in mine[:2]]

    # started again: it publishes the whole batch again, the server keeps one of each
    restarted = JetStreamPublisher(NATS_URL, story.stream, story.prefix)
    async with running_relay(container.event_store(), restarted, checkpoint, locks):
        async with asyncio.timeout(30):
            while (await relay_state(api))["lag"] > 0:  # noqa: ASYNC110 - polled as users do
                await asyncio.sleep(0.05)
    assert (await js.stream_info(story.stream)).state.messages == len(expected)

    seen = await consume(js, story.stream, f"{story.prefix}.{tenant}.>")
    assert len({e.id for e in seen}) == len(seen)  # each once
    assert sorted(e.id for e in seen) == sorted(e.id for e in expected if e.tenant == tenant)
    assert sorted(str(e.type) for e in seen) == TENANT_EVENTS
    for partition in {e.partition for e in seen}:  # in order, per order (and per payment)
        assert [e.id for e in seen if e.partition == partition] == [
            e.id for e in expected if e.partition == partition
        ]
    assert [str(e.type) for e in seen if e.partition == order_id] == ORDER_EVENTS
    assert uuid.UUID(order["rival_order_id"]) not in {e.partition for e in seen}

    # the emails: two workers at once, then a third after them, send each one once
    await asyncio.gather(run(story.world.worker()), run(story.world.worker()))
    await run(story.world.worker())
    number = order["number"]
    ours = [m for m in story.mailbox.messages if str(m["To"]) == "ada@example.com"]
    assert sorted(str(m["Subject"]) for m in ours) == sorted(
        [
            f"Order {number} confirmed",
            f"Payment received for order {number}",
            f"Order {number} is on its way",
            f"Refund for order {number}",
        ]
    )
    assert len({str(m["Message-ID"]) for m in ours}) == 4
    assert [str(m["To"]) for m in story.mailbox.messages if m not in ours] == ["bob@example.com"]

    # the webhooks: every order event fails twice, then is accepted on the third attempt
    await fan_out_everything(story.hooks)
    for due in (len(ORDER_EVENTS) + 1, len(ORDER_EVENTS), len(ORDER_EVENTS)):  # + the rival's
        attempted = await asyncio.gather(story.hooks.deliver(), story.hooks.deliver())
        assert sum(attempted) == due  # each delivery claimed by one of the two workers
        assert await story.hooks.deliver() == 0  # nothing due before its backoff
        story.clock.advance(timedelta(minutes=10))
    assert await story.hooks.deliver() == 0  # all delivered: nothing is sent again

    received = story.receiver.received
    assert len(received) == 3 * len(ORDER_EVENTS)
    assert all(r.verified for r in received)  # Commerce-Signature checked by the snippet
    bodies = [json.loads(r.body) for r in received]
    assert {b["tenant"] for b in bodies} == {tenant}
    firsts = {b["id"]: b for b in bodies}
    assert sorted(b["type"] for b in firsts.values()) == sorted(ORDER_EVENTS)
    assert {b["payload"]["order_id"] for b in firsts.values()} == {order["id"]}
    assert set(firsts) == {str(e.id) for e in mine}  # the ids the relay published
    rival_bodies = [json.loads(r.body) for r in story.rival_receiver.received]
    assert [b["type"] for b in rival_bodies] == ["order.placed"]
    assert tenant not in {b["tenant"] for b in rival_bodies}
    assert all(r.verified for r in story.rival_receiver.received)

    listed = await story.world.shop.call("GET", f"/webhook-endpoints/{endpoint}/deliveries")
    assert listed.status_code == 200, listed.text
    deliveries = listed.json()["items"]
    assert len(deliveries) == len(ORDER_EVENTS)
    for delivery in deliveries:
        assert delivery["status"] == "succeeded"
        assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
