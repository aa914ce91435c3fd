"""The relay's background loop: a failing broker is recorded and retried with a growing delay."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.relay import MemoryPublisher, MemoryRelayCheckpoint
from commerce_core.eventstore import Repository
from commerce_core.integration import IntegrationEvent
from commerce_core.integration.ports import BrokerError
from commerce_core.integration.relay import Relay
from entrypoints.relay import IDLE, MAX_BACKOFF, relay_forever
from tests.unit.order_story import Clock, tell_story


class FlakyBroker(MemoryPublisher):
    """Refuses every publish while ``down``."""

    down = True

    async def publish(self, events: Sequence[IntegrationEvent]) -> None:
        if self.down:
            raise BrokerError("connection refused")
        await super().publish(events)


class StopLoopError(Exception):
    pass


class Sleeps:
    """Stands in for asyncio.sleep: records each delay, brings the broker back after
    ``outage`` delays, and stops the loop once it idles."""

    def __init__(self, checkpoint: MemoryRelayCheckpoint, broker: FlakyBroker, outage: int) -> None:
        self.delays: list[float] = []
        self.errors: list[str | None] = []
        self._checkpoint = checkpoint
        self._broker = broker
        self._outage = outage

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self.errors.append(self._checkpoint.errors.get("nats"))
        if len(self.delays) == self._outage:
            self._broker.down = False
        if delay == IDLE:
            raise StopLoopError


async def test_broker_errors_back_off_doubling_are_recorded_then_cleared() -> None:
    store = MemoryEventStore()
    await tell_story(Repository(store), Clock())
    broker, checkpoint = FlakyBroker(), MemoryRelayCheckpoint()
    sleeps = Sleeps(checkpoint, broker, outage=8)
    with pytest.raises(StopLoopError):
        await relay_forever(Relay(store, broker, checkpoint), checkpoint, sleep=sleeps)
    assert sleeps.delays[:8] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, MAX_BACKOFF, MAX_BACKOFF]
    assert sleeps.errors[0] == "connection refused"
    assert sleeps.delays[8:] == [IDLE]  # caught up after one good batch
    assert sleeps.errors[-1] is None  # the good batch cleared the error
    assert broker.published  # everything went out in the end
