"""A repository view that answers a command's first reads from one read made up front.

A command that needs many aggregates (placing an order: its products, stock, customer,
locations and zones) used to load them as the code reached them, one round trip per
family. ``preload`` reads every stream the command will need in one ``load_streams``
and returns a ``Repository`` whose ``get`` / ``get_many`` answer those ids from that
read (an id read and found absent is answered as absent, with no second read); any
other id goes to the store as before, so a guess that was wrong or incomplete costs a
read, never a wrong answer.

The preloaded state is as of one moment, like any read before an optimistic append:
the append's expected versions still guard every stream it writes. It answers reads
only until the first ``save`` through the view: a save that lost a race (or won one)
must not be retried on the state read before it, so every later read goes to the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from commerce_core.eventstore.records import EventMetadata, RecordedEvent, StreamLoad
from commerce_core.eventstore.repository import AggregateNotFoundError, Repository

A = TypeVar("A", bound=Aggregate)


async def preload(repo: Repository, stream_ids: Iterable[UUID]) -> Preloaded:
    """``repo`` answering the first reads of ``stream_ids`` from one read of them all; on a
    ``Preloaded`` view, a view answering its preloaded ids too (and reading only the others)."""
    earlier = repo._loads if isinstance(repo, Preloaded) else {}
    wanted = [i for i in dict.fromkeys(stream_ids) if i not in earlier]
    loads = await repo.store.load_streams(wanted) if wanted else {}
    return Preloaded(repo, {**earlier, **{stream_id: loads.get(stream_id) for stream_id in wanted}})


class Preloaded(Repository):
    """``Repository`` over the same store, answering preloaded ids without a read."""

    def __init__(self, repo: Repository, loads: dict[UUID, StreamLoad | None]) -> None:
        super().__init__(repo.store, repo.mapper, repo.snapshot_every)
        self._loads = loads  # every preloaded id; None: read and found absent

    async def get(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        kind: type[A] = Aggregate,  # type: ignore[assignment]
    ) -> A:
        if version is not None or aggregate_id not in self._loads:
            return await super().get(aggregate_id, version, kind)
        aggregate = self._from_load(aggregate_id)
        if aggregate is None or not isinstance(aggregate, kind):
            raise AggregateNotFoundError(aggregate_id, kind)
        return aggregate

    async def get_many(
        self,
        aggregate_ids: Sequence[UUID],
        kind: type[A] = Aggregate,  # type: ignore[assignment]
    ) -> dict[UUID, A]:
        found: dict[UUID, A] = {}
        rest = []
        for aggregate_id in aggregate_ids:
            if aggregate_id not in self._loads:
                rest.append(aggregate_id)
            elif isinstance(aggregate := self._from_load(aggregate_id), kind):
                found[aggregate_id] = aggregate
        if rest:
            found.update(await super().get_many(rest, kind))
        return found

    def _from_load(self, aggregate_id: UUID) -> Aggregate | None:
        # replayed on each ask: every caller gets an aggregate of its own to change
        load = self._loads[aggregate_id]
        return None if load is None else self._replay(load)

    async def save(
        self,
        *aggregates: Aggregate,
        metadata: EventMetadata,
        idempotency_key: str | None = None,
    ) -> list[RecordedEvent]:
        self._loads = {}
        return await super().save(*aggregates, metadata=metadata, idempotency_key=idempotency_key)

    def subset(self, stream_ids: Iterable[UUID]) -> Preloaded:
        """A view answering only ``stream_ids`` (those still preloaded) from this read: for a
        later command that may start from it, e.g. a charge's stock take after the gateway's
        answer (ADR 0047). Taken before a ``save`` (which ends this view's answers)."""
        return Preloaded(self, {i: self._loads[i] for i in stream_ids if i in self._loads})

    @property
    def preloaded(self) -> frozenset[UUID]:
        """The ids still answered from the preload (none after a save)."""
        return frozenset(self._loads)
