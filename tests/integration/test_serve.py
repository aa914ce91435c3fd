"""`commerce serve` as deployed: it stops on SIGTERM under load, and every line it writes
(granian's, the app's, the background work's) is one JSON object."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
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


def keep_busy(url: str, stop: threading.Event, answered: list[int]) -> None:
    with httpx.Client(timeout=2) as http:
        while not stop.is_set():
            try:
                answered.append(http.get(f"{url}/ready").status_code)
                answered.append(http.get(f"{url}/api/v1/orders").status_code)  # 401
            except httpx.TransportError:
                return  # the server went away: what the test waits for


def test_serve_stops_on_sigterm_under_load_and_logs_json_lines_only(
    schema: PgSchema, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**serve_env(schema, port, tmp_path), "LOG_FORMAT": "json"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [COMMERCE, "serve", "--workers", "1"], env=env, stdout=out, stderr=out
        )
    stop, answered = threading.Event(), list[int]()
    clients = [threading.Thread(target=keep_busy, args=(url, stop, answered)) for _ in range(4)]
    try:
        wait_for_health(url, process)
        for client in clients:
            client.start()
        while len(answered) < 200 and process.poll() is None:
            time.sleep(0.05)  # polling the load threads' progress, not waiting for time
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        process.wait(timeout=15)
        took = time.monotonic() - started
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
            process.wait()
        for client in clients:
            client.join()

    output = log.read_text()
    assert took < 10, f"took {took:.1f} s to stop:\n{output[-3000:]}"
    assert process.returncode in (0, -signal.SIGTERM), output[-3000:]
    assert set(answered) <= {200, 401}
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    requests = [entry for entry in lines if entry.get("event") == "request"]
    assert len(requests) >= 200
    assert {entry["route"] for entry in requests} >= {"/ready"}
    assert any(entry.get("logger") == "_granian" for entry in lines), "granian's own lines"
