"""`commerce worker` killed with SIGKILL again and again while it projects loses nothing and
doubles nothing: its tables end equal to one clean run's, and to the orders themselves.

Each run is killed at a random moment of its third batch: the test times its
first two checkpoint moves (one commit) and kills it a random 0-1 commit time
after the second, so the kill falls anywhere in the cycle: reading events,
decoding them, inside the batch's transaction or while it commits. Every
registered projection runs; the slowest one's checkpoint paces the kills.
Increments (``paid``, ``refunded``) show a batch applied twice, and most orders
in the history pay or refund.

Checked to fail with broken checkpoint writes (a throwaway worker with its
``PostgresReadModel.apply`` patched through a ``sitecustomize`` on PYTHONPATH):
committing the checkpoint in its own transaction before the changes lost
batches, and the row comparison failed in 4 runs of 4; committing it in its own
transaction after them (a window of one round trip) doubled a batch in 2 runs of 5.
"""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from collections.abc import Awaitable, Callable
from operator import itemgetter
from pathlib import Path

import pytest

from adapters.postgres.eventstore import PostgresEventStore
from commerce_core.eventstore import Position
from entrypoints.projections import registered_projections
from tests.conftest import PgSchema
from tests.integration.projections.clean_build import clean_rows, serving_rows
from tests.integration.projections.order_history import order_list_row, write_order_history
from tests.integration.projections.worker_process import (
    Worker,
    Workers,
    checkpoints,
    lock_holders,
    wait_until,
)

pytestmark = pytest.mark.slow  # kills worker processes at random moments

EVENTS = 24_000  # 24 batches of 1,000
KILLS = 6
# The most one run can apply before its kill: two checkpoint moves and a random
# wait of up to one more, each a commit of up to 4 batches (ADR 0048). Runs
# usually apply 3-5 batches; when fewer than this are left, more history is
# written, so every kill lands in a run that has not reached the head.
RUN_AT_MOST = 12_000
DEADLINE = 60  # seconds for any one wait; the whole test takes 15-40 s (machine load)


async def kill_in_a_random_moment(
    worker: Worker, applied: Callable[[], Awaitable[int]], rng: random.Random
) -> None:
    """Kills ``worker`` a random 0-1 commit times after its second commit.

    A commit time is measured between its first two checkpoint moves.
    """

    async def moved(events: int) -> None:
        async def check() -> bool:
            return await applied() > events

        await wait_until(check, within=DEADLINE, what=f"a run moving past {events} events")

    await moved(await applied())
    started = time.perf_counter()
    await moved(await applied())
    commit_time = time.perf_counter() - started
    await asyncio.sleep(rng.uniform(0, commit_time))  # the random moment to kill at
    await worker.kill()


async def test_a_worker_killed_at_random_moments_ends_with_the_rows_of_a_clean_run(
    pg_schema: PgSchema, tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    projections = registered_projections()
    keys = [p.key for p in projections]
    pool = await pg_schema.pool(max_size=4)
    try:
        store = PostgresEventStore(pool)
        orders = await write_order_history(store, EVENTS, seed=seed)
        log: list[Position] = []

        async def read_log() -> None:
            log[:] = [
                Position(*row)
                for row in await pool.fetch(
                    "SELECT tx_id, global_position FROM events ORDER BY tx_id, global_position"
                )
            ]

        await read_log()

        async def applied() -> int:
            """Events every projection has applied (the slowest one's checkpoint)."""
            return bisect.bisect_right(log, min(await checkpoints(pool, keys)))

        kills: list[tuple[int, int]] = []  # events applied when each kill came, of all
        async with Workers(pg_schema, tmp_path) as workers:
            for n in range(KILLS):
                if len(log) - await applied() < RUN_AT_MOST:
                    orders += await write_order_history(
                        store, RUN_AT_MOST, seed=seed + n + 1, first_number=len(orders) + 1
                    )
                    await read_log()
                worker = await workers.start(f"crashing-{n}")
                await kill_in_a_random_moment(worker, applied, rng)
                kills.append((await applied(), len(log)))

            last = await workers.start("last")
            newest = log[-1]

            async def finished() -> bool:
                holders = await lock_holders(pool, pg_schema.name, keys)
                done = await checkpoints(pool, keys)
                live = await pool.fetchval(
                    "SELECT bool_and(status = 'live') FROM projection_checkpoints"
                )
                return (
                    all(h == [last.app] for h in holders)
                    and all(c == newest for c in done)
                    and live
                )

            await wait_until(finished, within=DEADLINE, what="the last run reaching the head")
            assert await last.stop() == 0, last.output()
        states = await pool.fetch("SELECT status, error FROM projection_checkpoints")
        crashed = await serving_rows(pool, projections)

        reference = await clean_rows(pool, projections, newest)
    finally:
        await pool.close()

    context = f"seed {seed}, events applied at each kill: {kills}"
    assert {(s["status"], s["error"]) for s in states} == {("live", None)}
    assert crashed.keys() == reference.keys()
    for table, rows in reference.items():
        assert crashed[table] == rows, f"table {table} differs from a clean run ({context})"
    by_key = itemgetter("tenant_id", "order_id")
    expected = sorted((order_list_row(o) for o in orders), key=by_key)
    assert sorted(crashed["order_list"], key=by_key) == expected, context
    assert all(0 < applied < written for applied, written in kills), context  # each mid-run
