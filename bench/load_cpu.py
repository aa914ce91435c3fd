"""Where the machine's CPU went during a load test: the server's processes (exited ones
included), every PostgreSQL process, the client's own, the rest, and the machine's idle time,
from /proc (Linux), with bench/cpu_use.py's readers.

Taken before and after a run; the difference, divided by what the run did (payments, say),
tells what one unit of work costs each part, and whether the machine ran out of CPU."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from bench.cpu_use import TICK, machine_ticks, postgres_pids


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    return text[text.rindex(")") + 2 :].split()  # the fields after "(comm)"


def _seconds(fields: list[str], *, children: bool) -> float:
    # utime, stime (fields 14, 15); cutime, cstime (16, 17): children waited for
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICK


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def tree_seconds(root: int) -> float:
    """CPU seconds of a process and its descendants, the ones that exited included."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for pid in _pids():
        if (fields := _stat(pid)) is not None:
            stats[pid], parents[pid] = fields, int(fields[1])
    members, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in members} - members
        members |= more
        grew = bool(more)
    return sum(_seconds(stats[pid], children=True) for pid in members if pid in stats)


def postgres_seconds() -> float:
    """CPU seconds of every local PostgreSQL process, exited backends included (they are
    counted in the postmaster's children's time once it has waited for them)."""
    total = 0.0
    postgres = set(postgres_pids())
    for pid in postgres:
        if (fields := _stat(pid)) is None:
            continue
        postmaster = int(fields[1]) not in postgres
        total += _seconds(fields, children=postmaster)
    return total


def machine() -> tuple[float, float]:
    """Busy and idle CPU seconds of the whole machine since boot (all cores)."""
    total, idle = machine_ticks()
    return (total - idle) / TICK, idle / TICK


@dataclass(frozen=True)
class Reading:
    at: float
    server: float
    database: float
    client: float
    busy: float
    idle: float


def read(server_pid: int | None) -> Reading:
    busy, idle = machine()
    return Reading(
        at=time.perf_counter(),
        server=tree_seconds(server_pid) if server_pid is not None else 0.0,
        database=postgres_seconds(),
        client=time.process_time(),
        busy=busy,
        idle=idle,
    )


def used(before: Reading, after: Reading) -> dict[str, float]:
    """CPU seconds each part used between two readings, with the wall time and the cores."""
    server = after.server - before.server
    database = after.database - before.database
    client = after.client - before.client
    busy = after.busy - before.busy
    return {
        "wall_s": round(after.at - before.at, 2),
        "cores": os.cpu_count() or 1,
        "server_s": round(server, 2),
        "database_s": round(database, 2),
        "client_s": round(client, 2),
        "other_s": round(max(busy - server - database - client, 0.0), 2),
        "idle_s": round(after.idle - before.idle, 2),
    }
