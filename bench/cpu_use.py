"""Where the machine's cores go while a load runs: bench/http.py's CPU breakdown.

CPU time is read from /proc before and after the load (``utime + stime`` of each
process, and the machine's totals from /proc/stat), so the figures do not depend on
sampling. The groups: the load generator (a child of the bench, reaped when it ends:
its time is the growth of the bench's ``RUSAGE_CHILDREN``), each server process
(granian's workers, and the ``commerce worker`` of the ``outside`` setup), the
database sessions of the server (its ``application_name``), every other PostgreSQL
process (WAL writer, checkpointer, other people's sessions), and the rest of the
machine (other work, the kernel's time not charged to a process), then what stayed idle.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # ended, or not on this machine
    return int(fields[11]) + int(fields[12])  # utime + stime


def postgres_pids() -> list[int]:
    """Every process on the machine named ``postgres`` (the server and its backends)."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                found.append(int(comm.parent.name))
        except OSError:
            continue
    return found


def machine_ticks() -> tuple[int, int]:
    """All the machine's CPU time and its idle part (idle + iowait), in ticks."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]), fields[3] + fields[4]


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Snapshot:
    """CPU so far: per process, the load generator's (reaped children) and the machine's."""

    ticks: dict[int, int]
    children: float
    machine: tuple[int, int]
    at: float


def snapshot(pids: list[int], at: float) -> Snapshot:
    ticks = {pid: t for pid in pids if (t := process_ticks(pid)) is not None}
    return Snapshot(ticks, children_seconds(), machine_ticks(), at)


@dataclass(frozen=True)
class CpuUse:
    """Shares of one core over the load's wall time (200%: both cores of this machine)."""

    seconds: float
    loadgen: float
    servers: list[float]  # each server process that did something, busiest first
    database: float  # the server's own sessions
    other_postgres: float
    rest: float  # everything else the machine did (other work, kernel)
    idle: float
    cores: int

    def line(self) -> str:
        servers = " + ".join(f"{s:.0%}" for s in self.servers) or "-"
        return (
            f"load generator {self.loadgen:.0%}, server processes {servers},"
            f" its database sessions {self.database:.0%}, other PostgreSQL"
            f" {self.other_postgres:.0%}, rest of the machine {self.rest:.0%},"
            f" idle {self.idle:.0%} (of {self.cores * 100}%)"
        )


def cpu_use(before: Snapshot, after: Snapshot, servers: list[int], sessions: list[int]) -> CpuUse:
    """The split between two snapshots; ``servers`` and ``sessions`` are pids of both."""
    wall = max(after.at - before.at, 1e-9)

    def share(pids: list[int]) -> float:
        used = sum(after.ticks[p] - before.ticks[p] for p in pids if p in after.ticks)
        return used / TICK / wall

    kept = [p for p in before.ticks if p in after.ticks]
    own = [p for p in servers if p in kept]
    db = [p for p in sessions if p in kept and p not in own]
    pg = [p for p in kept if p not in own and p not in db]
    total = after.machine[0] - before.machine[0]
    idle = after.machine[1] - before.machine[1]
    cores = os.cpu_count() or 1
    # /proc/stat sums every core's ticks: its busy share times the cores is cores busy
    busy = (total - idle) / max(total, 1) * cores
    loadgen = (after.children - before.children) / wall
    per_server = sorted((share([p]) for p in own), reverse=True)
    database, other_pg = share(db), share(pg)
    rest = busy - loadgen - sum(per_server) - database - other_pg
    return CpuUse(
        wall,
        loadgen,
        [s for s in per_server if s >= 0.005],
        database,
        other_pg,
        max(rest, 0.0),
        cores - busy,
        cores,
    )
