"""The relay: integration events from the event store to the broker, at least once.

It reads stored events after its checkpoint, derives their integration events, publishes
them and only then moves the checkpoint past them. A crash between the broker's ack and the
checkpoint re-publishes the same events with the same ids, which the broker drops as
duplicates. Events of one partition (one aggregate: an order, a payment) are published in
the order they were stored, each after the previous one's ack; partitions go side by side.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple
from uuid import UUID

from commerce_core.eventstore import EventStore, Position
from commerce_core.integration.derive import gives_integration_events, integration_events_of
from commerce_core.integration.events import IntegrationEvent
from commerce_core.integration.ports import IntegrationPublisher, RelayCheckpoint


class RelayStatus(NamedTuple):
    """How far the relay is: ``lag`` counts stored events not yet relayed (or skipped)."""

    position: Position
    head: Position
    lag: int
    last_error: str | None


class Relay:
    """Moves integration events from ``store`` to ``publisher``; ``name`` keys its checkpoint."""

    def __init__(
        self,
        store: EventStore,
        publisher: IntegrationPublisher,
        checkpoint: RelayCheckpoint,
        name: str = "nats",
        batch_size: int = 500,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._checkpoint = checkpoint
        self.name = name
        self._batch_size = batch_size
        self.relayed = 0

    async def relay_batch(self) -> int:
        """Relays the next batch of stored events; returns how many stored events it passed
        (0: caught up). Raises ``BrokerError`` (checkpoint unmoved) if the broker fails."""
        after = await self._checkpoint.load(self.name)
        batch = await self._store.read_all(after, limit=self._batch_size)
        if not batch:
            return 0
        events = [
            integration
            for stored in batch
            if gives_integration_events(stored.type)
            for integration in integration_events_of(stored)
        ]
        await _publish_by_partition(self._publisher, events)
        await self._checkpoint.save(self.name, batch[-1].position)
        self.relayed += len(events)
        return len(batch)

    async def status(self) -> RelayStatus:
        return await relay_status(self._store, self._checkpoint, self.name)


async def relay_status(store: EventStore, checkpoint: RelayCheckpoint, name: str) -> RelayStatus:
    """Where the relay ``name`` is, read from its checkpoint (any process may ask)."""
    position = await checkpoint.load(name)
    head = await store.head()
    return RelayStatus(position, head, lag(position, head), await checkpoint.last_error(name))


async def _publish_by_partition(
    publisher: IntegrationPublisher, events: Sequence[IntegrationEvent]
) -> None:
    partitions: dict[UUID, list[IntegrationEvent]] = defaultdict(list)
    for event in events:
        partitions[event.partition].append(event)
    results = await asyncio.gather(
        *(publisher.publish(part) for part in partitions.values()), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


def lag(position: Position, head: Position) -> int:
    """Stored events behind ``head``, estimated as projections do (positions are ordered by
    transaction first, so the difference of global positions is close, never below 1)."""
    if position >= head:
        return 0
    return max(1, head.global_position - position.global_position)
