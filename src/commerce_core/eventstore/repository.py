"""Loads aggregates from their events (and snapshots) and saves their new events."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from commerce_core.eventstore.mapper import EventMapper
from commerce_core.eventstore.ports import EventStore
from commerce_core.eventstore.records import (
    AppendStream,
    EventMetadata,
    RecordedEvent,
    StreamLoad,
)

A = TypeVar("A", bound=Aggregate)

_EVENT_ID_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/event-ids")


class AggregateNotFoundError(LookupError):
    """No aggregate of the wanted kind has this id. ``kind`` names what was looked for
    in the domain's words ("order", "stock item"), or is None when any kind would do."""

    def __init__(self, aggregate_id: UUID, kind: type[Aggregate] | str | None = None) -> None:
        self.aggregate_id = aggregate_id
        self.kind = kind_name(kind) if not isinstance(kind, str) else kind
        super().__init__(f"no {self.kind or 'record'} has the id {aggregate_id}")


def kind_name(kind: type[Aggregate] | None) -> str | None:
    """``StockItem`` -> "stock item"; None for ``Aggregate`` itself (any kind)."""
    if kind is None or kind is Aggregate:
        return None
    return re.sub(r"(?<!^)(?=[A-Z])", " ", kind.__name__).lower()


class Repository:
    """The aggregate repository: ``get`` replays events, ``save`` appends them atomically.

    With ``snapshot_every=N`` a snapshot is written whenever a save carries an
    aggregate across a multiple of N events, so loading replays fewer than N.
    """

    def __init__(
        self,
        store: EventStore,
        mapper: EventMapper | None = None,
        snapshot_every: int | None = None,
    ) -> None:
        self.store = store
        self.mapper = mapper or EventMapper()
        self.snapshot_every = snapshot_every

    async def get(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        kind: type[A] = Aggregate,  # type: ignore[assignment]
    ) -> A:
        """The aggregate as of ``version`` (default: latest); ``kind`` guards its type."""
        aggregate = self._replay(await self.store.load_stream(aggregate_id, version))
        if aggregate is None or not isinstance(aggregate, kind):
            raise AggregateNotFoundError(aggregate_id, kind)
        return aggregate

    async def get_many(
        self,
        aggregate_ids: Sequence[UUID],
        kind: type[A] = Aggregate,  # type: ignore[assignment]
    ) -> dict[UUID, A]:
        """The latest state of several aggregates, loaded in one read; an id with no
        aggregate of the wanted kind is missing from the answer."""
        found: dict[UUID, A] = {}
        if not aggregate_ids:
            return found
        for aggregate_id, load in (await self.store.load_streams(aggregate_ids)).items():
            aggregate = self._replay(load)
            if isinstance(aggregate, kind):
                found[aggregate_id] = aggregate
        return found

    def _replay(self, load: StreamLoad) -> Aggregate | None:
        aggregate: Aggregate | None = None
        if load.snapshot is not None:
            aggregate = self.mapper.from_snapshot(load.snapshot)
        for recorded in load.events:
            event = self.mapper.from_recorded(recorded)
            aggregate = cast(Aggregate | None, event.mutate(aggregate))  # type: ignore[attr-defined]
        return aggregate

    async def save(
        self,
        *aggregates: Aggregate,
        metadata: EventMetadata,
        idempotency_key: str | None = None,
    ) -> list[RecordedEvent]:
        """Appends every pending event of every aggregate in one atomic append.

        With an ``idempotency_key`` the event ids derive from it, so saving the
        same outcome of the same command twice stores it once.
        """
        streams = []
        for aggregate in aggregates:
            pending = aggregate.collect_events()
            if not pending:
                continue
            new_events = [
                self.mapper.to_new_event(
                    event, _event_id(idempotency_key, aggregate.id, event.originator_version)
                )
                for event in pending
            ]
            expected = pending[0].originator_version - 1
            streams.append(AppendStream(aggregate.id, expected, new_events))
        if not streams:
            return []
        recorded = await self._append(streams, metadata)
        if self.snapshot_every:
            await self._snapshot_crossings(aggregates, streams)
        return recorded

    async def _append(
        self, streams: list[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        return await self.store.append(streams, metadata)

    async def _snapshot_crossings(
        self, aggregates: tuple[Aggregate, ...], streams: list[AppendStream]
    ) -> None:
        every = self.snapshot_every or 0
        expected = {s.stream_id: s.expected_version for s in streams}
        for aggregate in aggregates:
            before = expected.get(aggregate.id)
            if before is not None and aggregate.version // every > before // every:
                await self.store.save_snapshot(self.mapper.to_snapshot(aggregate))


def _event_id(idempotency_key: str | None, stream_id: UUID, version: int) -> UUID | None:
    if idempotency_key is None:
        return None
    return uuid5(_EVENT_ID_NAMESPACE, f"{idempotency_key}:{stream_id}:{version}")
