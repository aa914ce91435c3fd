"""The repository over each event store: load, save, snapshots, upcasting, idempotency."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from commerce_core.eventstore import (
    AggregateNotFoundError,
    AppendStream,
    ConcurrencyError,
    EventMetadata,
    EventStore,
    NewEvent,
    Repository,
    StreamLoad,
)
from commerce_core.shared.money import Money

META = EventMetadata(tenant_id="t1", actor="tester")
AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class Till(Aggregate):
    """A small aggregate with typed state: money, a timestamp, a list of structs."""

    balance: Money
    opened_at: datetime
    takings: list[Money]

    @event("Opened")
    def __init__(self, currency: str, opened_at: datetime) -> None:
        self.balance = Money.zero(currency)
        self.opened_at = opened_at
        self.takings = []

    @event("Took")
    def take(self, amount: Money) -> None:
        self.balance = self.balance + amount
        self.takings.append(amount)


class Counter(Aggregate):
    """Version 2 of an event renamed a field; version 1 payloads are upcast when read."""

    count: int

    @event("Started")
    def __init__(self) -> None:
        self.count = 0

    class Added(Aggregate.Event):
        class_version = 2
        amount: int  # version 1 called it "n"

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["amount"] = state.pop("n")

        def apply(self, aggregate: Counter) -> None:
            aggregate.count += self.amount

    def add(self, amount: int) -> None:
        self.trigger_event(self.Added, amount=amount)


async def test_a_saved_aggregate_loads_with_its_typed_state(store: EventStore) -> None:
    repo = Repository(store)
    till = Till(currency="EUR", opened_at=AT)
    till.take(Money(250, "EUR"))
    till.take(Money(125, "EUR"))
    await repo.save(till, metadata=META)

    loaded = await repo.get(till.id, kind=Till)

    assert loaded.balance == Money(375, "EUR")
    assert loaded.opened_at == AT
    assert loaded.takings == [Money(250, "EUR"), Money(125, "EUR")]
    assert loaded.version == 3
    assert (await repo.get(till.id, version=2, kind=Till)).balance == Money(250, "EUR")


async def test_an_unknown_id_or_another_kind_is_not_found(store: EventStore) -> None:
    repo = Repository(store)
    till = Till(currency="EUR", opened_at=AT)
    await repo.save(till, metadata=META)

    with pytest.raises(AggregateNotFoundError):
        await repo.get(uuid.uuid4())
    with pytest.raises(AggregateNotFoundError):
        await repo.get(till.id, kind=Counter)


async def test_saving_from_a_stale_copy_raises_a_concurrency_error(store: EventStore) -> None:
    repo = Repository(store)
    till = Till(currency="EUR", opened_at=AT)
    await repo.save(till, metadata=META)
    first, second = await repo.get(till.id, kind=Till), await repo.get(till.id, kind=Till)
    first.take(Money(1, "EUR"))
    second.take(Money(2, "EUR"))
    await repo.save(first, metadata=META)

    with pytest.raises(ConcurrencyError):
        await repo.save(second, metadata=META)
    assert (await repo.get(till.id, kind=Till)).balance == Money(1, "EUR")


async def test_saving_the_same_outcome_with_the_same_idempotency_key_stores_it_once(
    store: EventStore,
) -> None:
    repo = Repository(store)
    till = Till(currency="EUR", opened_at=AT)
    await repo.save(till, metadata=META)

    async def take_ten() -> int:
        copy = await repo.get(till.id, version=1, kind=Till)
        copy.take(Money(10, "EUR"))
        return len(await repo.save(copy, metadata=META, idempotency_key="req-42"))

    assert await take_ten() == 1
    assert await take_ten() == 0
    assert (await repo.get(till.id, kind=Till)).balance == Money(10, "EUR")


async def test_snapshots_round_trip_and_shorten_loading(store: EventStore) -> None:
    repo = Repository(store, snapshot_every=10)
    till = Till(currency="USD", opened_at=AT)
    for cents in range(1, 25):
        till.take(Money(cents, "USD"))
        await repo.save(till, metadata=META)

    snapshot = await store.load_snapshot(till.id)
    assert snapshot is not None
    assert snapshot.version == 20
    from_snapshot = repo.mapper.from_snapshot(snapshot)
    assert isinstance(from_snapshot, Till)
    assert from_snapshot.balance == Money(sum(range(1, 20)), "USD")
    assert from_snapshot.opened_at == AT
    assert from_snapshot.takings[0] == Money(1, "USD")

    loaded = await repo.get(till.id, kind=Till)
    replayed = await Repository(store).get(till.id, kind=Till)  # no snapshot use: same store
    assert loaded.balance == till.balance == Money(sum(range(1, 25)), "USD")
    assert vars(loaded) == vars(till)
    assert loaded.balance == replayed.balance
    as_of_15 = await repo.get(till.id, version=15, kind=Till)
    assert as_of_15.balance == Money(sum(range(1, 15)), "USD")


async def test_loading_a_stream_reads_the_newest_fitting_snapshot_and_the_events_after_it(
    store: EventStore,
) -> None:
    repo = Repository(store, snapshot_every=10)
    till = Till(currency="USD", opened_at=AT)
    for cents in range(1, 25):  # versions 2..25; snapshots at 10 and 20
        till.take(Money(cents, "USD"))
        await repo.save(till, metadata=META)

    def shape(load: StreamLoad) -> tuple[int | None, list[int]]:
        snapshot, events = load
        return (snapshot.version if snapshot else None, [e.version for e in events])

    assert shape(await store.load_stream(till.id)) == (20, list(range(21, 26)))
    assert shape(await store.load_stream(till.id, 20)) == (20, [])
    assert shape(await store.load_stream(till.id, 19)) == (10, list(range(11, 20)))
    assert shape(await store.load_stream(till.id, 9)) == (None, list(range(1, 10)))
    assert shape(await store.load_stream(uuid.uuid4())) == (None, [])
    _, events = await store.load_stream(till.id, 12)
    assert events[0].metadata.actor == "tester"
    assert events[0].stream_id == till.id


async def test_several_streams_load_in_one_read_as_each_would_alone(store: EventStore) -> None:
    repo = Repository(store, snapshot_every=10)
    long, short = Till(currency="USD", opened_at=AT), Till(currency="EUR", opened_at=AT)
    for cents in range(1, 25):  # long: versions 2..25, snapshots at 10 and 20
        long.take(Money(cents, "USD"))
        await repo.save(long, metadata=META)
    short.take(Money(7, "EUR"))
    await repo.save(short, metadata=META)
    counter = Counter()
    await repo.save(counter, metadata=META)
    missing = uuid.uuid4()

    loads = await store.load_streams([short.id, missing, long.id])

    assert list(loads) == [short.id, long.id]
    assert loads[long.id] == await store.load_stream(long.id)
    assert loads[short.id] == await store.load_stream(short.id)
    tills = await repo.get_many([long.id, missing, short.id, counter.id], kind=Till)
    assert set(tills) == {long.id, short.id}  # the counter is another kind: left out
    assert vars(tills[long.id]) == vars(await repo.get(long.id, kind=Till))
    assert tills[short.id].balance == Money(7, "EUR")
    assert await store.load_streams([]) == {}


async def test_events_written_by_an_older_class_version_are_upcast(store: EventStore) -> None:
    repo = Repository(store)
    counter = Counter()
    await repo.save(counter, metadata=META)
    old_payload = msgspec.json.encode(
        {"timestamp": AT.isoformat(), "n": 5}
    )  # as version 1 wrote it: no class_version, field "n"
    await store.append(
        [
            AppendStream(
                counter.id, 1, [NewEvent(uuid.uuid4(), get_topic(Counter.Added), old_payload)]
            )
        ],
        META,
    )

    loaded = await repo.get(counter.id, kind=Counter)
    loaded.add(2)
    await repo.save(loaded, metadata=META)

    assert (await repo.get(counter.id, kind=Counter)).count == 7
