"""Log output carries no personal data from the values an error passed through.

Exceptions are rendered as plain tracebacks (``format_exc_info``) in both formats; the
console renderer's own rich tracebacks would print every frame's local variables,
request bodies and personal data among them.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from entrypoints.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers, root.level = handlers, level


# built at run time: tracebacks quote source lines, which must not hold the marker itself
MARKER = "".join(["zq", "mark", "er"])


def fail_with(email: str) -> None:
    customer = {"email": email}  # a local of the failing frame
    raise RuntimeError(f"lookup failed for {len(customer)} field")


@pytest.mark.parametrize("fmt", ["console", "json"])
@pytest.mark.usefixtures("restore_logging")
def test_a_logged_exception_shows_no_local_values(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("info", fmt)
    log = structlog.get_logger(f"test-{fmt}")

    try:
        fail_with(f"{MARKER}@example.com")
    except RuntimeError:
        log.exception("unhandled exception")

    out = capsys.readouterr().out
    assert "lookup failed" in out  # the traceback is there
    assert MARKER not in out


def test_a_logger_cached_before_logging_is_configured_again_follows_the_new_setup() -> None:
    configure_logging()
    log = structlog.get_logger("cached")
    log.info("first use caches the logger")
    configure_logging()  # e.g. a second app in the same process

    with structlog.testing.capture_logs() as captured:
        log.info("seen")

    assert [entry["event"] for entry in captured] == ["seen"]


CHILD = """
import logging, structlog
from entrypoints.logs import configure_logging
configure_logging("info", "json")
events, records = structlog.get_logger("events"), logging.getLogger("records")
padding = "x" * 10_000  # longer than a stream's buffer, as a traceback can be
for i in range(200):
    events.info("event", i=i, padding=padding)
    records.info("record %s %s", i, padding)
"""


def test_processes_sharing_one_output_never_interleave_inside_a_line(tmp_path: Path) -> None:
    # granian's server and worker processes write to one standard output
    path = tmp_path / "out.log"
    with path.open("wb") as out:
        children = [
            subprocess.Popen([sys.executable, "-c", CHILD], stdout=out, stderr=out)
            for _ in range(3)
        ]
        for child in children:
            assert child.wait(timeout=60) == 0

    lines = path.read_text().splitlines()
    parsed = [json.loads(line) for line in lines]  # "Extra data" when two lines share one
    assert len(parsed) == 3 * 2 * 200
