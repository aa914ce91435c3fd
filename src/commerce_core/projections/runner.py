"""Runs projections: catch up from the checkpoint, then follow live, each effect once.

Each projection runs in its own task. It first takes its lock (so that of all
runners only one writes a projection version), prepares its tables, reads its
checkpoint, applies history in batches with ``read_all`` and then follows new
events with ``subscribe``. Every batch's changes and the new checkpoint are
written by the ``ReadModelStore`` in one transaction, conditional on the
checkpoint being where this runner left it, so a crash, a lost lock or a second
runner can delay an effect but never lose or double it.

Runners of several processes share the projections out (ADR 0054): each takes the
ones its place among the runners present gives it, hands over those it holds
beyond them, and takes a projection nobody else took after a few of its tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from commerce_core.eventstore import EventMapper, EventStore, Position, RecordedEvent
from commerce_core.projections.changes import Change
from commerce_core.projections.checks import InvalidChangeError
from commerce_core.projections.decoding import FieldsDecoder
from commerce_core.projections.live import LiveBatches
from commerce_core.projections.ports.read_models import (
    ALONE,
    Lease,
    Peers,
    ProjectionLocks,
    ProjectionState,
    QuarantineChangedError,
    QuarantinedEvent,
    ReadModelSchemaError,
    ReadModelStore,
)
from commerce_core.projections.progress import (
    ProjectionFailedError,
    ProjectionStatus,
    Track,
    lag,
)
from commerce_core.projections.projection import Projection, check_projection
from commerce_core.projections.quarantine import (
    changes_of,
    error_text,
    held_behind,
    quarantined,
    tenant_of,
)
from commerce_core.projections.shared_reads import SharedBatch, SharedReads, own_batch

log = logging.getLogger(__name__)


class _NoLock:
    def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class _Share:
    """A lease that counts as lost once its projection belongs to another runner: the
    runner stops at the end of a batch and hands the lock over."""

    def __init__(self, lease: Lease, ours: Callable[[], bool]) -> None:
        self._lease = lease
        self._ours = ours

    def held(self) -> bool:
        return self._lease.held() and self._ours()

    async def release(self) -> None:
        await self._lease.release()


_JOIN = 4  # batches at most in one commit of a catch-up
# A runner tries a projection that is not its own once in this many tries: its owner
# tries at each, so this one takes it only when nobody present does.
_FALLBACK_TRIES = 5

_PERMANENT = (ProjectionFailedError, InvalidChangeError, ReadModelSchemaError)


class ProjectionRunner:
    """Runs several projections against one event store and one read-model store.

    ``locks`` (None: no other runner exists, as with the memory adapters) keeps
    two runners off the same projection version; a runner without the lock
    waits (``standby``) and retries every ``lock_retry_interval`` seconds, and
    looks at who else runs (``ProjectionLocks.peers``) as often: the projection at
    index i of ``projections`` belongs to the runner of rank ``i % count``.
    Storage faults are retried with a backoff from ``retry_interval`` up to
    ``max_retry_interval``. A version that is not serving becomes serving when
    it has caught up, unless a newer version serves (``auto_promote``).
    """

    def __init__(
        self,
        store: EventStore,
        read_models: ReadModelStore,
        projections: Sequence[Projection],
        *,
        mapper: EventMapper | None = None,
        locks: ProjectionLocks | None = None,
        batch_size: int = 1000,
        lock_retry_interval: float = 1.0,
        retry_interval: float = 0.5,
        max_retry_interval: float = 30.0,
        lease_check_interval: float = 1.0,
        auto_promote: bool = True,
    ) -> None:
        self._store = store
        self._read_models = read_models
        self._mapper = mapper or EventMapper()
        self._locks = locks
        self._batch_size = batch_size
        self._lock_retry_interval = lock_retry_interval
        self._retry_interval = retry_interval
        self._max_retry_interval = max_retry_interval
        self._lease_check_interval = lease_check_interval
        self._auto_promote = auto_promote
        # projections catching up together read and decode each batch once (ADR 0048)
        self._decode = FieldsDecoder(self._mapper, projections)
        decoding = sum(1 for p in projections if p.decodes)
        self._reads = SharedReads(store, batch_size, self._decode, keep=decoding > 1)
        self._tracks: dict[str, Track] = {}
        self._index = {p.name: i for i, p in enumerate(projections)}
        self._peers = ALONE
        self._taken_over: set[str] = set()  # held though not ours: nobody else took them
        self._watch: asyncio.Task[None] | None = None
        tables: set[str] = set()
        for projection in projections:
            check_projection(projection)
            if projection.name in self._tracks:
                raise ValueError(f"projection {projection.name} is registered twice")
            specs = projection.table_specs()
            if tables & specs.keys():
                raise ValueError(f"projection {projection.name}: a table name is already taken")
            tables |= specs.keys()
            self._tracks[projection.name] = Track(projection, specs)

    async def __aenter__(self) -> ProjectionRunner:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Starts every projection that is not running."""
        # What lives now (modules, configuration, caches) lives on: kept out of the
        # cyclic collector's full passes, which otherwise rescan it every few batches
        # of a catch-up and took a third of its CPU (ADR 0048); stop unfreezes it.
        gc.freeze()
        if self._locks is not None and self._watch is None:
            await self._look_at_peers()  # before taking any: a newcomer takes only its share
            self._watch = asyncio.create_task(self._watch_peers(), name="projection-peers")
        for track in self._tracks.values():
            self._start(track)

    @property
    def peers(self) -> Peers:
        return self._peers

    async def _watch_peers(self) -> None:
        while True:
            await asyncio.sleep(self._lock_retry_interval)
            await self._look_at_peers()

    async def _look_at_peers(self) -> None:
        assert self._locks is not None
        try:
            peers = await self._locks.peers()
        except Exception:
            log.warning("projection runners: cannot tell who else runs", exc_info=True)
            return  # keep the last view: the locks still keep runners apart
        if peers != self._peers:
            log.info("projection runners: %s of %s", peers.rank + 1, peers.count)
            self._peers = peers
            self._taken_over.clear()  # shared out afresh

    def _ours(self, track: Track) -> bool:
        name = track.projection.name
        return name in self._taken_over or self._peers.prefers(self._index[name])

    def _start(self, track: Track) -> None:
        if track.task is None or track.task.done():
            name = f"projection:{track.projection.key}"
            track.task = asyncio.create_task(self._run(track), name=name)

    async def retry(self, name: str) -> None:
        """Restarts a projection that failed (after its handler has been fixed)."""
        track = self._track(name)
        if track.task is None or track.task.done():
            track.state, track.error = ProjectionState.STANDBY, None
            track.notify()
            self._start(track)

    async def stop(self) -> None:
        """Stops every projection and releases its lock; checkpoints stay where they are."""
        tasks = [t.task for t in self._tracks.values() if t.task is not None]
        if self._watch is not None:
            tasks.append(self._watch)
            self._watch = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        gc.unfreeze()  # what start froze can be collected again once it is garbage
        for track in self._tracks.values():
            track.task = None
            if track.state != ProjectionState.FAILED:
                track.state = ProjectionState.STOPPED
                track.notify()

    @property
    def store_reads(self) -> int:
        """Batches read from the event store while catching up (shared ones count once)."""
        return self._reads.reads

    def state(self, name: str) -> ProjectionState:
        return self._track(name).state

    async def status(self) -> list[ProjectionStatus]:
        """Every projection's state, position and lag behind the event store's head."""
        head = await self._store.head()
        return [
            ProjectionStatus(
                name=t.projection.name,
                version=t.projection.version,
                state=t.state,
                position=t.position,
                head=head,
                lag=lag(t.position, head),
                serving=t.serving,
                handled=t.handled,
                error=t.error,
                degraded_tenants=sorted(t.held),
            )
            for t in self._tracks.values()
        ]

    async def wait_for(self, name: str, position: Position) -> None:
        """Returns once the projection has applied every event up to ``position``.

        For read-your-writes: pass the position of the last event a command
        appended, under ``asyncio.timeout``. Raises ``RuntimeError`` if it fails.
        """
        track = self._track(name)
        while track.position < position:
            if track.state == ProjectionState.FAILED:
                raise RuntimeError(track.error)
            changed = track.changed
            await changed.wait()

    async def wait_for_state(self, name: str, *states: ProjectionState) -> ProjectionState:
        """Returns the state once the projection is in one of ``states`` (use a timeout)."""
        track = self._track(name)
        while track.state not in states:
            changed = track.changed
            await changed.wait()
        return track.state

    def _track(self, name: str) -> Track:
        try:
            return self._tracks[name]
        except KeyError:
            raise KeyError(f"no projection {name!r} in this runner") from None

    async def _run(self, track: Track) -> None:
        delay = self._retry_interval
        key = track.projection.key
        while True:
            lease = await self._acquire(track)
            try:
                await self._run_leased(track, _Share(lease, lambda: self._ours(track)))
                if lease.held():
                    log.info("projection %s: handed over to another runner", key)
                else:
                    log.warning("projection %s lost its lock; standing by", key)
                delay = self._retry_interval
                continue
            except _PERMANENT as error:
                await self._fail(track, error)
                return
            except Exception as error:
                log.warning("projection %s: %r; retry in %.2fs", key, error, delay, exc_info=True)
                track.state, track.error = ProjectionState.STANDBY, f"retrying after: {error!r}"
                track.notify()
            finally:
                with contextlib.suppress(Exception):
                    await lease.release()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry_interval)

    async def _acquire(self, track: Track) -> Lease:
        if self._locks is None:
            return _NoLock()
        tries = 0
        while True:
            tries += 1
            ours = self._ours(track)
            lease = None
            if ours or tries % _FALLBACK_TRIES == 0:
                try:
                    lease = await self._locks.try_acquire(track.projection.key)
                except Exception:
                    log.warning("projection %s: no lock", track.projection.key, exc_info=True)
            if lease is not None:
                if not ours:
                    self._taken_over.add(track.projection.name)
                return lease
            if track.state != ProjectionState.STANDBY:
                track.state = ProjectionState.STANDBY
                track.notify()
            await asyncio.sleep(self._lock_retry_interval)

    async def _fail(self, track: Track, error: BaseException) -> None:
        track.state, track.error = ProjectionState.FAILED, str(error)
        track.notify()
        log.error("projection %s failed: %s", track.projection.key, error, exc_info=error)
        with contextlib.suppress(Exception):
            await self._read_models.set_state(track.projection, ProjectionState.FAILED, str(error))

    async def _run_leased(self, track: Track, lease: Lease) -> None:
        """Runs while the lease is held; returns when it is lost."""
        projection = track.projection
        self._reads.expect(projection.key)  # the others wait for it to catch up with them
        try:
            checkpoint = await self._read_models.prepare(projection, defer_indexes=True)
            track.position, track.serving = checkpoint.position, checkpoint.serving
            track.error = None
            await self._load_held(track)
            catching_up = (
                ProjectionState.CATCHING_UP if track.serving else ProjectionState.REBUILDING
            )
            await self._enter(track, catching_up)
            if not await self._catch_up(track, lease):
                return
        finally:
            self._reads.leave(projection.key)
        await self._read_models.build_indexes(projection)  # what prepare deferred, if empty
        if not track.serving and self._auto_promote and await self._may_promote(projection):
            await self._read_models.promote(projection)
            track.serving = True
        await self._enter(track, ProjectionState.LIVE)
        async with LiveBatches(self._store, track.position, self._batch_size) as live:
            while lease.held():
                try:
                    async with asyncio.timeout(self._lease_check_interval):
                        batch = await live.next()
                except TimeoutError:
                    continue  # quiet: look at the lease again
                if lease.held():
                    await self._process(track, own_batch(batch, self._decode))

    async def _catch_up(self, track: Track, lease: Lease) -> bool:
        """Applies history up to the head; False if the lease was lost on the way.

        Three steps overlap (ADR 0045): the next batch is read while this one is
        planned (decoded, handled, its changes grouped), and this one is planned
        while the previous one commits. The read ahead starts after a batch's
        last event and a plan starts from where the previous plan ends, which
        is where its commit leaves the checkpoint and the quarantine; if that
        commit takes the careful way instead (a change refused), the plan is
        made again on what it left. A batch read while the previous one committed
        joins this one's commit (up to ``_JOIN`` batches a commit, ADR 0048): a
        slow commit then costs its round trips once for several batches.
        """
        size, reads, member = self._batch_size, self._reads, track.projection.key
        reads.join(member, track.position)
        reading = asyncio.ensure_future(reads.read(member, track.position))
        committing: asyncio.Future[None] | None = None
        previous: tuple[list[SharedBatch], _Plan] | None = None
        try:
            while True:
                batch = await reading
                if not lease.held():
                    return False
                full = len(batch.events) >= size
                if full:
                    reading = asyncio.ensure_future(reads.read(member, batch.events[-1].position))
                basis = None if previous is None else previous[1]
                plan = self._plan(track, batch, checked=False, after=basis)
                parts = [batch]
                if committing is not None and previous is not None:
                    fast = await self._committed(track, committing, previous[0])
                    committing = None
                    if not fast:
                        plan = self._plan(track, batch, checked=False)
                while full and reading.done() and len(parts) < _JOIN:
                    more = await reading  # read while the previous batch committed
                    full = len(more.events) >= size
                    if full:
                        reading = asyncio.ensure_future(
                            reads.read(member, more.events[-1].position)
                        )
                    plan = plan.then(self._plan(track, more, checked=False, after=plan))
                    parts.append(more)
                if not full:  # the last one: committed in line, so LIVE follows at once
                    await self._committed(track, self._commit(track, plan), parts)
                    return True
                committing = asyncio.ensure_future(self._commit(track, plan))
                previous = (parts, plan)
        finally:
            reads.leave(member)
            for task in (reading, committing):
                if task is not None:  # a read ahead or commit nobody will wait for
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    async def _committed(
        self, track: Track, committing: Awaitable[None], batches: Sequence[SharedBatch]
    ) -> bool:
        """Waits for the commit of ``batches``; True if it went through as planned.

        If the store refused a change, or the quarantine changed meanwhile, the
        batches are applied again the careful way (``_process``, one after the
        other) and False returned.
        """
        try:
            await committing
            return True
        except InvalidChangeError:
            pass
        except QuarantineChangedError:
            await self._load_held(track)
        for batch in batches:
            await self._process(track, batch)
        return False

    async def _enter(self, track: Track, state: ProjectionState) -> None:
        await self._read_models.set_state(track.projection, state)
        track.state = state
        track.notify()
        log.info("projection %s is %s at %s", track.projection.key, state, tuple(track.position))

    async def _may_promote(self, projection: Projection) -> bool:
        serving = [
            c.version
            for c in await self._read_models.checkpoints()
            if c.name == projection.name and c.serving
        ]
        return not serving or max(serving) < projection.version

    async def _process(self, track: Track, batch: SharedBatch) -> None:
        """Applies a batch with its checkpoint, and its quarantine, in one transaction.

        An event the projection cannot apply (its handler raises, or a change does
        not fit) is quarantined for its tenant, and so is every later event of that
        tenant, in order (``commerce_core.projections.quarantine``); every other
        tenant's events are applied. If a retry or skip changed the quarantine
        meanwhile, the batch is built again on the new one.
        """
        while True:
            try:
                await self._apply_batch(track, batch)
                return
            except QuarantineChangedError:
                await self._load_held(track)

    async def _apply_batch(self, track: Track, batch: SharedBatch) -> None:
        try:
            await self._commit(track, self._plan(track, batch, checked=False))
        except InvalidChangeError:
            # the store refused a change: check each event's changes to find it
            try:
                await self._commit(track, self._plan(track, batch, checked=True))
            except InvalidChangeError:
                # the database refused what the checks let through: one event at a time
                for event in batch.events:
                    await self._apply_one(track, event)

    async def _apply_one(self, track: Track, event: RecordedEvent) -> None:
        plan = self._plan(track, own_batch([event], self._decode), checked=True)
        try:
            await self._commit(track, plan)
        except InvalidChangeError as error:
            failed = quarantined(track.projection, event, error=error_text(error), failed=True)
            held = {**track.held, tenant_of(event): event.event_id}
            await self._commit(track, _Plan([], [failed], held, event.position, 0))

    def _plan(
        self,
        track: Track,
        batch: SharedBatch,
        *,
        checked: bool,
        after: _Plan | None = None,
    ) -> _Plan:
        """The batch's changes from where the track is, or from where ``after`` ends."""
        projection = track.projection
        changes: list[Change] = []
        quarantine: list[QuarantinedEvent] = []
        held = dict(track.held if after is None else after.held)
        handled = 0
        done = track.position if after is None else after.position
        decoded_by = batch.decoded
        for event in batch.events:
            if event.position <= done:
                continue  # applied already (a batch built again after a partial commit)
            done = event.position
            if not projection.wants(event.type):
                continue
            tenant = tenant_of(event)
            first = held.get(tenant)
            if first is not None:
                quarantine.append(held_behind(projection, event, first))
                continue
            try:
                if checked:
                    made = changes_of(projection, self._mapper, event)
                else:
                    decoded = decoded_by(event) if projection.decodes else None
                    made = projection.handle(event, decoded)
            except Exception as error:
                text = error_text(error)
                log.warning(
                    "projection %s quarantines event %s of tenant %s: %s",
                    projection.key,
                    event.event_id,
                    tenant,
                    text,
                )
                quarantine.append(quarantined(projection, event, error=text, failed=True))
                held[tenant] = event.event_id
                continue
            changes.extend(made)
            handled += 1
        return _Plan(changes, quarantine, held, done, handled)

    async def _commit(self, track: Track, plan: _Plan) -> None:
        if plan.position != track.position:
            await self._read_models.apply(
                track.projection,
                plan.changes,
                track.position,
                plan.position,
                quarantine=plan.quarantine,
                held=frozenset(track.held),
            )
            track.position = plan.position
            track.handled += plan.handled
            track.held = plan.held
            track.notify()

    async def _load_held(self, track: Track) -> None:
        held: dict[str, UUID] = {}
        projection = track.projection
        for entry in await self._read_models.quarantined(projection.name, projection.version):
            held.setdefault(entry.tenant_id, entry.event_id)
        track.held = held


@dataclass(frozen=True)
class _Plan:
    """A batch ready to commit: its changes, what it quarantines, and where it ends."""

    changes: list[Change]
    quarantine: list[QuarantinedEvent]
    held: dict[str, UUID]
    position: Position
    handled: int

    def then(self, later: _Plan) -> _Plan:
        """This plan and ``later`` (made after it) as one commit."""
        return _Plan(
            self.changes + later.changes,
            self.quarantine + later.quarantine,
            later.held,
            later.position,
            self.handled + later.handled,
        )
