"""`commerce serve` as deployed: it stops on SIGTERM under load with every worker process,
and every line it writes (granian's, the app's, the background work's) is one JSON object."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_DATABASE_URL, PgSchema
from tests.integration.test_run import COMMERCE, free_port, wait_for_health

pytestmark = pytest.mark.slow


@pytest.fixture
def schema() -> Iterator[PgSchema]:
    created = asyncio.run(PgSchema.create())
    yield created
    asyncio.run(created.drop())


def serve_env(schema: PgSchema, port: int, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": TEST_DATABASE_URL,
        "DATABASE_SCHEMA": schema.name,
        "EVENT_STORE": "postgres",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATA_DIR": str(data_dir),
    }


def workers_of(pid: int) -> list[int]:
    """The processes under ``pid`` (granian's workers), read from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                under = [int(child) for child in children.read_text().split()]
                found += under
                todo += under
    return found


def alive(pid: int) -> bool:
    """Still running (a zombie, dead but not yet reaped by its parent, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def left_after_exit(process: subprocess.Popen[bytes], pids: Iterable[int]) -> list[int]:
    """Waits for the server's exit, then up to 10 s for ``pids``: those still running."""
    process.wait(timeout=15)
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the workers' exit
    return [pid for pid in pids if alive(pid)]


def kill_left(process: subprocess.Popen[bytes], pids: Iterable[int]) -> None:
    """Kills what a failed test left running: one leftover would load the tests after it."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def keep_busy(url: str, stop: threading.Event, answered: list[int]) -> None:
    with httpx.Client(timeout=2) as http:
        while not stop.is_set():
            try:
                answered.append(http.get(f"{url}/ready").status_code)
                answered.append(http.get(f"{url}/api/v1/orders").status_code)  # 401
            except httpx.TransportError:
                return  # the server went away: what the test waits for


@dataclass
class Stopped:
    took: float  # seconds from the signal to the server's exit
    workers: list[int]  # granian's worker processes while it served
    left: list[int]  # those still running 10 s after the server's exit
    returncode: int
    answered: list[int]
    output: str


def serve_then_signal(schema: PgSchema, tmp_path: Path, stop_with: signal.Signals) -> Stopped:
    """``commerce serve --workers 2`` under load from 4 clients, sent ``stop_with``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**serve_env(schema, port, tmp_path), "LOG_FORMAT": "json"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [COMMERCE, "serve", "--workers", "2"], env=env, stdout=out, stderr=out
        )
    stop, answered, workers = threading.Event(), list[int](), list[int]()
    clients = [threading.Thread(target=keep_busy, args=(url, stop, answered)) for _ in range(4)]
    try:
        wait_for_health(url, process)
        for client in clients:
            client.start()
        while len(answered) < 200 and process.poll() is None:
            time.sleep(0.05)  # polling the load threads' progress, not waiting for time
        workers += workers_of(process.pid)
        process.send_signal(stop_with)
        started = time.monotonic()
        process.wait(timeout=15)
        took = time.monotonic() - started
        left = left_after_exit(process, workers)
    finally:
        stop.set()
        kill_left(process, workers)
        for client in clients:
            client.join()
    return Stopped(took, workers, left, process.returncode, answered, log.read_text())


def test_serve_stops_on_sigterm_under_load_with_its_workers_and_logs_json_lines_only(
    schema: PgSchema, tmp_path: Path
) -> None:
    stopped = serve_then_signal(schema, tmp_path, signal.SIGTERM)

    output = stopped.output
    assert len(stopped.workers) == 2, stopped.workers
    assert stopped.left == [], f"workers {stopped.left} outlived the server"
    assert stopped.took < 10, f"took {stopped.took:.1f} s to stop:\n{output[-3000:]}"
    assert stopped.returncode in (0, -signal.SIGTERM), output[-3000:]
    assert set(stopped.answered) <= {200, 401}
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    requests = [entry for entry in lines if entry.get("event") == "request"]
    assert len(requests) >= 200
    assert {entry["route"] for entry in requests} >= {"/ready"}
    assert any(entry.get("logger") == "_granian" for entry in lines), "granian's own lines"
    started = [entry for entry in lines if entry.get("event") == "started"]
    assert sorted(entry["pid"] for entry in started) == sorted(stopped.workers)
    assert {entry["event_loop"] for entry in started} == {"uvloop.Loop"}  # ADR 0052


def test_the_workers_of_a_killed_server_stop_too(schema: PgSchema, tmp_path: Path) -> None:
    """``kill -9``, the OOM killer, a supervisor that gave up waiting: granian cannot stop
    its workers then, and each would keep its pool's connections and run projections,
    webhooks and jobs with no server in front of it."""
    stopped = serve_then_signal(schema, tmp_path, signal.SIGKILL)

    assert len(stopped.workers) == 2, stopped.workers
    assert stopped.left == [], f"workers {stopped.left} outlived the killed server"


def test_a_server_stopped_while_its_workers_start_exits_with_them(
    schema: PgSchema, tmp_path: Path
) -> None:
    """A deploy or a supervisor may stop a server that has not finished starting. A
    worker still in its startup (here: connecting to a database that never answers)
    loses a SIGTERM in granian; the server must still stop, and take the worker along."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections and never answers: a database that hangs
    port = free_port()
    env = {
        **serve_env(schema, port, tmp_path),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/test",
        "WORKER_STOP_TIMEOUT": "3",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [COMMERCE, "serve", "--workers", "2"], env=env, stdout=out, stderr=out
        )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count('"started"') < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for both workers to be in their startup
        workers += workers_of(process.pid)
        assert len(workers) == 2, log.read_text()[-3000:]
        process.send_signal(signal.SIGTERM)
        assert left_after_exit(process, workers) == []
    finally:
        silent.close()
        kill_left(process, workers)


def test_a_killed_worker_is_replaced_and_stops_with_the_server(
    schema: PgSchema, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [COMMERCE, "serve", "--workers", "2"],
            env=serve_env(schema, port, tmp_path),
            stdout=out,
            stderr=out,
        )
    seen: set[int] = set()
    try:
        wait_for_health(url, process)
        deadline = time.monotonic() + 30
        while len(before := workers_of(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the second worker, not waiting for time
        seen.update(before)
        assert len(before) == 2, before
        killed = before[0]
        os.kill(killed, signal.SIGKILL)

        def replacement() -> int | None:
            """The new worker's pid once it has started its app (its "started" line)."""
            now = [pid for pid in workers_of(process.pid) if alive(pid)]
            seen.update(now)
            started = {
                json.loads(line)["pid"]
                for line in log.read_text().splitlines()
                if '"started"' in line
            }
            new = [pid for pid in now if pid not in before and pid in started]
            return new[0] if len(now) == 2 and killed not in now and new else None

        while (new := replacement()) is None and process.poll() is None:
            assert time.monotonic() < deadline, (
                f"no replacement for {killed}:\n{log.read_text()[-3000:]}"
            )
            time.sleep(0.05)  # polling for the replacement
        assert process.poll() is None, "the server stopped when one worker died"
        with httpx.Client(timeout=5) as http:
            answers = [http.get(f"{url}/ready").status_code for _ in range(40)]
        assert set(answers) == {200}

        process.send_signal(signal.SIGTERM)
        assert left_after_exit(process, seen) == [], f"outlived the server ({new} replaced)"
    finally:
        kill_left(process, seen)
