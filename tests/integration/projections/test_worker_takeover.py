"""Two `commerce worker` processes on one schema share the projections out (ADR 0054):
the first takes all of them, hands half over when the second comes, the second takes
all of them when the first is killed, and the tables end as one clean run leaves them.

Who works is read from the server: ``pg_locks`` gives each projection lock's
holder, ``pg_stat_activity`` each worker's last query (workers are told apart
by ``application_name``). A watcher samples both every few milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import asyncpg

from adapters.postgres.eventstore import PostgresEventStore
from commerce_core.ordering.order import Order
from entrypoints.projections import registered_projections
from tests.conftest import PgSchema
from tests.integration.projections.clean_build import clean_rows, serving_rows
from tests.integration.projections.conftest import newest_position
from tests.integration.projections.order_history import order_list_row, write_order_history
from tests.integration.projections.worker_process import (
    POLL,
    Worker,
    Workers,
    checkpoints,
    last_queries,
    lock_holders,
    wait_until,
)

HISTORY, LATER = 10_000, 10_000  # events before the workers start, and while they run
DEADLINE = 60  # seconds for any one wait; the whole test takes 10-25 s (machine load)
DATA = ("events", "projection_checkpoints", "rm_")  # what a working worker's queries touch


@dataclass(frozen=True)
class Sample:
    first_alive: bool
    holders: list[list[str]]  # the apps holding each projection's lock
    second_touched_data: bool


class Watch:
    """Samples lock holders and the second worker's queries every few ms until stopped.

    A sample counts as taken while the first worker lived if ``first_alive`` was
    true both before and after it (the test sets it false just before the kill).
    """

    def __init__(self, pool: asyncpg.Pool, schema: str, keys: list[str], second: Worker) -> None:
        self.first_alive = True
        self.samples: list[Sample] = []
        self._task = asyncio.create_task(self._run(pool, schema, keys, second.app))

    async def _run(self, pool: asyncpg.Pool, schema: str, keys: list[str], second: str) -> None:
        while True:
            alive = self.first_alive
            holders = await lock_holders(pool, schema, keys)
            queries = await last_queries(pool, second)
            touched = any(table in query for query in queries for table in DATA)
            self.samples.append(Sample(alive and self.first_alive, holders, touched))
            await asyncio.sleep(POLL)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def while_first_lived(self) -> list[Sample]:
        return [s for s in self.samples if s.first_alive]

    def after_the_kill(self) -> list[Sample]:
        return [s for s in self.samples if not s.first_alive]


async def test_two_workers_share_the_projections_and_one_takes_all_when_the_other_is_killed(
    pg_schema: PgSchema, tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    projections = registered_projections()
    keys = [p.key for p in projections]
    pool = await pg_schema.pool(max_size=8)
    store = PostgresEventStore(pool)
    watch: Watch | None = None
    later: asyncio.Task[list[Order]] | None = None
    try:
        orders = await write_order_history(store, HISTORY, seed=seed)
        history_end = await newest_position(pool)

        async def held_by(worker: Worker) -> bool:
            holders = await lock_holders(pool, pg_schema.name, keys)
            return all(h == [worker.app] for h in holders)

        async with Workers(pg_schema, tmp_path) as workers:
            first = await workers.start("first")
            await wait_until(lambda: held_by(first), within=DEADLINE, what="first's locks")
            second = await workers.start("second")
            watch = Watch(pool, pg_schema.name, keys, second)

            async def second_asked_for_a_lock() -> bool:
                queries = await last_queries(pool, second.app)
                return any("pg_try_advisory_lock" in q for q in queries)

            async def caught_up_with_history() -> bool:
                return min(await checkpoints(pool, keys)) >= history_end

            # the i-th projection is the first's when i is even, the second's when odd
            shared = [[first.app] if i % 2 == 0 else [second.app] for i in range(len(keys))]

            async def shared_out() -> bool:
                return await lock_holders(pool, pg_schema.name, keys) == shared

            await wait_until(second_asked_for_a_lock, within=DEADLINE, what="second asking")
            await wait_until(shared_out, within=DEADLINE, what="the projections shared out")
            await wait_until(caught_up_with_history, within=DEADLINE, what="both catching up")

            # the first one follows new orders, and is killed while they may still be coming;
            # the second half is written after the kill, so the second one always has work
            later = asyncio.create_task(
                write_order_history(store, LATER // 2, seed=seed + 1, first_number=len(orders) + 1)
            )

            async def following_new_orders() -> bool:
                return min(await checkpoints(pool, keys)) > history_end

            await wait_until(following_new_orders, within=DEADLINE, what="first following")
            watch.first_alive = False
            await first.kill()
            # while both lived, each projection had one holder at most, and once shared
            # out they stayed so
            lived = watch.while_first_lived()
            assert len(lived) > 10
            assert all(len(holders) <= 1 for s in lived for holders in s.holders)
            assert lived[-1].holders == shared
            assert any(s.second_touched_data for s in lived)
            at_kill = await checkpoints(pool, keys)
            orders += await later
            orders += await write_order_history(
                store, LATER // 2, seed=seed + 2, first_number=len(orders) + 1
            )
            newest = await newest_position(pool)

            async def second_finished() -> bool:
                done = await checkpoints(pool, keys)
                return await held_by(second) and all(c == newest for c in done)

            await wait_until(second_finished, within=DEADLINE, what="second taking over")
            assert await second.stop() == 0, second.output()
            started = [line for line in second.output().splitlines() if '"started"' in line]
            assert [json.loads(line)["event_loop"] for line in started] == ["uvloop.Loop"]
        rows = await serving_rows(pool, projections)
        reference = await clean_rows(pool, projections, newest)
    finally:
        if watch is not None:
            await watch.stop()
        if later is not None:
            later.cancel()
            await asyncio.gather(later, return_exceptions=True)
        await pool.close()

    after = watch.after_the_kill()
    assert all(len(holders) <= 1 for s in after for holders in s.holders)  # never two at once
    assert any(s.second_touched_data for s in after)
    assert all(c < newest for c in at_kill)  # the second one had work left to do
    assert rows == reference
    by_key = itemgetter("tenant_id", "order_id")
    expected = sorted((order_list_row(o) for o in orders), key=by_key)
    assert sorted(rows["order_list"], key=by_key) == expected
