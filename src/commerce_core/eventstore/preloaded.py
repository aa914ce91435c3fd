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

``BatchReads`` does the same for a batch of commands (the webhook worker's claim): the
streams of all of them in a few reads (each read may follow from what the previous one
found), then a ``Preloaded`` view per command. An aggregate the batch looked at
(``peek``) is handed to the first view that asks for it instead of being replayed again,
and the views' appends made side by side are stored together (``JointAppends``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from commerce_core.eventstore.joint_appends import JointAppends
from commerce_core.eventstore.records import (
    AppendStream,
    EventMetadata,
    RecordedEvent,
    StreamLoad,
)
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

    def __init__(
        self,
        repo: Repository,
        loads: dict[UUID, StreamLoad | None],
        peeked: dict[UUID, Aggregate] | None = None,
        appends: JointAppends | None = None,
    ) -> None:
        super().__init__(repo.store, repo.mapper, repo.snapshot_every)
        self._loads = loads  # every preloaded id; None: read and found absent
        # replayed already (shared by a batch's views): handed to the first that asks
        self._peeked = peeked if peeked is not None else {}
        self._appends = appends

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
        peeked = self._peeked.pop(aggregate_id, None)
        if peeked is not None:
            return peeked
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

    async def _append(
        self, streams: list[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        if self._appends is None:
            return await super()._append(streams, metadata)
        return await self._appends.append(streams, metadata)

    @property
    def preloaded(self) -> frozenset[UUID]:
        """The ids still answered from the preload (none after a save)."""
        return frozenset(self._loads)


class BatchReads:
    """The streams of a batch of commands, read together; ``view`` gives each command its
    ``Preloaded`` repository on them, whose saves are stored together with the others'
    made beside them (``JointAppends``). Reads of ids already read are not repeated."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self._loads: dict[UUID, StreamLoad | None] = {}
        self._peeked: dict[UUID, Aggregate] = {}
        self._appends = JointAppends(repo.store)

    async def read(self, stream_ids: Iterable[UUID]) -> None:
        """One read of the ``stream_ids`` not read yet (none: no read)."""
        wanted = [i for i in dict.fromkeys(stream_ids) if i not in self._loads]
        if not wanted:
            return
        loads = await self._repo.store.load_streams(wanted)
        self._loads.update({stream_id: loads.get(stream_id) for stream_id in wanted})

    def peek(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate as read (None: not read, absent, or another kind), to look at
        only: the first view that asks for it gets this very object to change."""
        if aggregate_id not in self._peeked:
            load = self._loads.get(aggregate_id)
            aggregate = None if load is None else self._repo._replay(load)
            if aggregate is None:
                return None
            self._peeked[aggregate_id] = aggregate
        found = self._peeked[aggregate_id]
        return found if isinstance(found, kind) else None

    def view(self) -> Preloaded:
        """A repository for one command of the batch, answering its first reads from these."""
        return Preloaded(self._repo, self._loads, self._peeked, self._appends)
