"""The relay's checkpoint in memory, and a publisher that keeps what it is given (for
`make run` without a broker, and for tests)."""

from __future__ import annotations

from collections.abc import Sequence

from commerce_core.eventstore import Position
from commerce_core.eventstore.records import START
from commerce_core.integration import IntegrationEvent


class MemoryRelayCheckpoint:
    def __init__(self) -> None:
        self.positions: dict[str, Position] = {}
        self.errors: dict[str, str | None] = {}

    async def load(self, relay: str) -> Position:
        return self.positions.get(relay, START)

    async def save(self, relay: str, position: Position) -> None:
        self.positions[relay] = position
        self.errors[relay] = None

    async def record_error(self, relay: str, error: str | None) -> None:
        self.errors[relay] = error

    async def last_error(self, relay: str) -> str | None:
        return self.errors.get(relay)


class MemoryPublisher:
    """Keeps every event it is given, dropping ids it already has (as the broker does)."""

    def __init__(self) -> None:
        self.published: list[IntegrationEvent] = []
        self._ids: set[object] = set()

    async def publish(self, events: Sequence[IntegrationEvent]) -> None:
        for event in events:
            if event.id not in self._ids:
                self._ids.add(event.id)
                self.published.append(event)
