"""What the relay needs from the outside: a broker to publish to, a place for its checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from commerce_core.eventstore import Position
from commerce_core.integration.events import IntegrationEvent


class BrokerError(Exception):
    """The broker refused or did not acknowledge a publish: try again later."""


class IntegrationPublisher(Protocol):
    """Publishes integration events to a broker.

    ``publish`` returns once the broker has acknowledged every event (stored them), and
    publishes them in the order given. Publishing an event whose ``id`` was already
    published is harmless: the broker drops the copy (deduplication by event id). Raises
    ``BrokerError`` when the broker cannot be reached or refuses.
    """

    async def publish(self, events: Sequence[IntegrationEvent]) -> None: ...


class RelayCheckpoint(Protocol):
    """Where the relay keeps the position in the event store up to which every integration
    event was acknowledged by the broker, and the last error it met."""

    async def load(self, relay: str) -> Position: ...

    async def save(self, relay: str, position: Position) -> None: ...

    async def record_error(self, relay: str, error: str | None) -> None: ...

    async def last_error(self, relay: str) -> str | None: ...
