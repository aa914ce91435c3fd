"""Deliveries on the in-memory stores with a scripted sender: once per event and
endpoint, given up after three days, an endpoint failing for days disabled."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.merchant_webhooks import MemoryWebhookDeliveries, MemoryWebhookEndpoints
from commerce_core.eventstore import Position
from commerce_core.merchant_webhooks import services
from commerce_core.merchant_webhooks.deliveries import DeliveryStatus
from commerce_core.merchant_webhooks.dispatch import DispatchDeps, deliver_due
from commerce_core.merchant_webhooks.endpoints import EndpointStatus
from commerce_core.merchant_webhooks.events import WebhookEvent
from commerce_core.merchant_webhooks.fanout import FanOutDeps, fan_out
from commerce_core.merchant_webhooks.ports import SendResult
from commerce_core.merchant_webhooks.urls import UrlRules

TENANT = "t-1"


class ScriptedSender:
    """Answers ``status`` to every post and counts how many run at once."""

    def __init__(self, status: int | None) -> None:
        self.status = status
        self.posts: list[Mapping[str, str]] = []
        self.running = 0
        self.most_at_once = 0

    async def post(
        self, url: str, headers: Mapping[str, str], body: bytes, time_limit: float
    ) -> SendResult:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        await asyncio.sleep(0)  # let the others start: concurrency is what is measured
        self.running -= 1
        self.posts.append(headers)
        if self.status is None:
            return SendResult(status_code=None, error="ConnectError: refused")
        return SendResult(status_code=self.status, response_body="x" * 5000)


class PublicResolver:
    async def resolve(self, host: str) -> list[str]:
        return ["93.184.216.34"]


class World:
    def __init__(self, status: int | None) -> None:
        self.clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
        self.ids = RandomIds()
        self.deliveries = MemoryWebhookDeliveries()
        self.endpoints = MemoryWebhookEndpoints(b"k" * 32, self.deliveries)
        self.sender = ScriptedSender(status)
        self.deps = DispatchDeps(
            endpoints=self.endpoints,
            deliveries=self.deliveries,
            sender=self.sender,
            resolver=PublicResolver(),
            clock=self.clock,
            rules=UrlRules(),
            jitter=lambda: 1.0,
            per_endpoint=2,
        )
        self.endpoint_deps = services.EndpointDeps(
            self.endpoints, self.deliveries, self.clock, self.ids, UrlRules()
        )

    async def endpoint(self) -> UUID:
        command = services.RegisterEndpoint(url="https://hooks.example.com/in", events=["*"])
        endpoint, _ = await services.register(self.endpoint_deps, TENANT, command)
        return endpoint.id

    def event(self) -> WebhookEvent:
        return WebhookEvent(
            id=uuid4(),
            type="order.paid",
            tenant=TENANT,
            occurred_at=self.clock.now(),
            payload={"order_id": str(uuid4())},
        )

    async def fan_out(self, *events: WebhookEvent) -> int:
        deps = FanOutDeps(self.endpoints, self.deliveries, self.clock, self.ids)
        return await fan_out(events, Position(1, 1), deps)

    async def run_for(self, span: timedelta) -> None:
        """Delivers whatever falls due, minute by minute, for ``span``."""
        end = self.clock.now() + span
        while self.clock.now() < end:
            await deliver_due(self.deps)
            self.clock.advance(timedelta(minutes=1))


async def test_an_event_read_twice_is_delivered_once() -> None:
    world = World(200)
    await world.endpoint()
    event = world.event()
    await world.fan_out(event)
    await world.fan_out(event)
    await world.run_for(timedelta(minutes=5))
    assert len(world.sender.posts) == 1
    assert world.sender.posts[0]["Commerce-Event-Id"] == str(event.id)


async def test_a_delivery_that_keeps_failing_is_given_up_after_three_days() -> None:
    world = World(500)
    endpoint_id = await world.endpoint()
    await world.fan_out(world.event())
    await world.run_for(timedelta(days=3, hours=1))
    [delivery] = await world.deliveries.of_endpoint(TENANT, endpoint_id, None, 10)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.next_attempt_at is None
    spent = delivery.attempts[-1].at - delivery.attempts[0].at
    assert timedelta(days=2) < spent <= timedelta(days=3)
    assert all(len(a.response_body or "") <= 1025 for a in delivery.attempts)
    attempts = len(delivery.attempts)
    await world.run_for(timedelta(days=1))
    assert len(world.sender.posts) == attempts  # nothing more once failed


async def test_an_endpoint_failing_for_days_is_disabled_with_a_notice() -> None:
    world = World(None)
    endpoint_id = await world.endpoint()
    for _ in range(6):  # a new event each day keeps the endpoint failing
        await world.fan_out(world.event())
        await world.run_for(timedelta(days=1))
    endpoint = await world.endpoints.get(TENANT, endpoint_id)
    assert endpoint is not None
    assert endpoint.status is EndpointStatus.DISABLED
    assert endpoint.notice is not None
    assert "PATCH enabled: true" in endpoint.notice
    posts = len(world.sender.posts)
    await world.fan_out(world.event())
    await world.run_for(timedelta(days=1))
    assert len(world.sender.posts) == posts  # a disabled endpoint gets nothing

    enabled = services.ChangeEndpoint(enabled=True)
    again = await services.change(world.endpoint_deps, TENANT, endpoint_id, enabled)
    assert again.status is EndpointStatus.ENABLED
    assert again.notice is None


async def test_a_success_ends_the_failure_streak() -> None:
    world = World(None)
    endpoint_id = await world.endpoint()
    await world.fan_out(world.event())
    await world.run_for(timedelta(days=2))
    world.sender.status = 204
    await world.fan_out(world.event())
    await world.run_for(timedelta(days=4))
    endpoint = await world.endpoints.get(TENANT, endpoint_id)
    assert endpoint is not None
    assert endpoint.status is EndpointStatus.ENABLED
    assert endpoint.failing_since is None


async def test_attempts_to_one_endpoint_run_at_most_per_endpoint_at_once() -> None:
    world = World(200)
    await world.endpoint()
    await world.fan_out(*(world.event() for _ in range(10)))
    assert await deliver_due(world.deps) == 10
    assert world.sender.most_at_once == 2
