"""What a projection's batch costs in Python, stage by stage, with no database.

Run with ``.venv/bin/python bench/projection_cost.py``. The events are those of
``bench/projections.py`` (``BENCH_COST_EVENTS``, default 100,000 order events of copies of
real ``Order`` aggregates, interleaved), built in memory as ``RecordedEvent``s. For each
projection that wants order events, every batch of 1,000 goes through what the runner and
the PostgreSQL read model do before the SQL leaves the process: decode (only the fields it
reads, ADR 0048), ``handle``, check the changes against the tables, plan them into groups,
and build each group's statement and arrays. Printed: microseconds per event of each stage
(the best of ``BENCH_COST_ROUNDS`` rounds, default 5), next to a full decode of the same
events in the same run (``EventMapper.from_recorded``: the reference). The database's own
work and the driver's encoding are left out: ``bench/projections.py`` measures those.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/projection_cost.py` puts bench/ first on sys.path, where bench/http.py would
# stand in for the standard library's `http` (imported by httpx, through the container)
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import gc
import importlib.util
import os
import random
import time
from typing import Any

from adapters.postgres.readmodel_sql import group_statement
from commerce_core.eventstore import EventMapper, Position
from commerce_core.eventstore.records import EventMetadata, RecordedEvent
from commerce_core.projections import Change, Projection, physical_name
from commerce_core.projections.checks import check_changes
from commerce_core.projections.decoding import FieldsDecoder
from commerce_core.projections.plan import plan
from entrypoints.projections import registered_projections

EVENTS = int(os.environ.get("BENCH_COST_EVENTS", "100000"))
ROUNDS = int(os.environ.get("BENCH_COST_ROUNDS", "5"))
BATCH = 1_000
STAGES = ("decode", "handle", "check", "plan", "statements")


def _projections_bench() -> Any:
    """bench/projections.py, for its events (loaded by path: bench/ is not a package
    on sys.path, and bench/http.py there would stand in for the standard library)."""
    path = Path(__file__).resolve().parent / "projections.py"
    spec = importlib.util.spec_from_file_location("bench_projections", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recorded_events(count: int) -> list[RecordedEvent]:
    rows = _projections_bench().event_rows(count, random.Random(7))
    return [
        RecordedEvent(
            Position(1, n), stream, version, event_id, type_, data, EventMetadata(tenant_id=t), at
        )
        for n, (stream, version, event_id, type_, data, t, at) in enumerate(rows, start=1)
    ]


def one_round(projection: Projection, batches: list[list[RecordedEvent]]) -> dict[str, float]:
    """Seconds spent in each stage over all the batches."""
    decode = FieldsDecoder(EventMapper(), [projection])
    tables = projection.table_specs()
    seconds = dict.fromkeys(STAGES, 0.0)
    clock = time.perf_counter
    for batch in batches:
        wanted = [event for event in batch if projection.wants(event.type)]
        t0 = clock()
        decoded = [decode(event) for event in wanted]
        t1 = clock()
        changes: list[Change] = []
        for event, value in zip(wanted, decoded, strict=True):
            changes += projection.handle(event, value)
        t2 = clock()
        check_changes(changes, tables)
        t3 = clock()
        groups = plan(changes, tables)
        t4 = clock()
        for group in groups:
            group_statement(group, physical_name(group.table.name, projection.version))
        t5 = clock()
        for stage, took in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            seconds[stage] += took
    return seconds


def full_decode(events: list[RecordedEvent]) -> float:
    mapper = EventMapper()
    started = time.perf_counter()
    for event in events:
        mapper.from_recorded(event)
    return time.perf_counter() - started


def main() -> None:
    print(f"Projection cost in Python: {EVENTS:,} order events, batches of {BATCH:,},")
    print(f"best of {ROUNDS} rounds, load average {os.getloadavg()[0]:.1f} at the start")
    events = recorded_events(EVENTS)
    batches = [events[n : n + BATCH] for n in range(0, len(events), BATCH)]
    gc.freeze()  # as the runner does: the events built above are not garbage to look at
    reference = min(full_decode(events) for _ in range(ROUNDS)) / len(events) * 1e6
    print(f"\nreference: a full decode of every event, {reference:.2f} us/event\n")
    header = "".join(f"{stage:>11}" for stage in STAGES)
    print(f"{'projection (us per event)':<28}{header}{'total':>9}{'of ref':>8}")
    for projection in registered_projections():
        if not any(projection.wants(event.type) for event in events[:BATCH]):
            continue  # wants no order event: nothing to measure here
        rounds = [one_round(projection, batches) for _ in range(ROUNDS)]
        best = {stage: min(r[stage] for r in rounds) / len(events) * 1e6 for stage in STAGES}
        total = sum(best.values())
        cells = "".join(f"{best[stage]:>11.2f}" for stage in STAGES)
        print(f"{projection.key:<28}{cells}{total:>9.2f}{total / reference:>8.1f}x")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
