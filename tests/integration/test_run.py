"""`make run`'s command on a fresh data directory: embedded PostgreSQL, migrations, HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

COMMERCE = str(Path(sys.executable).with_name("commerce"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_health(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"server exited early with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling a subprocess we do not control; not waiting for time to pass
    raise AssertionError("no answer from /health within 60 s")


def run_dev(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATA_DIR=str(data_dir), PORT=str(port), HOST="127.0.0.1")
    return subprocess.Popen(
        [COMMERCE, "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    return out.decode()


@pytest.mark.slow
def test_dev_server_starts_embedded_postgres_serves_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    process = run_dev(tmp_path, port)
    try:
        wait_for_health(url, process)
        ready = httpx.get(f"{url}/ready", timeout=5)
        health = httpx.get(f"{url}/health", timeout=5)
    finally:
        output = stop(process)

    assert ready.status_code == 200, output
    assert health.json() == {"status": "ok"}
    assert health.headers["x-request-id"]
    assert f"serving on {url}" in output
    assert process.returncode == 0, output
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists(), "database left running"

    # a second start reuses the data: no migration is pending any more
    process = run_dev(tmp_path, port)
    try:
        wait_for_health(url, process)
    finally:
        output = stop(process)
    assert "0 migration(s) applied" in output
