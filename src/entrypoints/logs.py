"""One log format for everything a process writes (ADR 0023): JSON lines, or readable
console lines when LOG_FORMAT=console.

structlog events, standard-library records (granian's, asyncpg's, litestar's, the
projection runner's) and tracebacks all go through the same processors and renderer; a
traceback is the ``exception`` field of its line, never lines of its own. Litestar's
and granian's own logging set-ups, which print ``INFO - ...`` lines, are replaced by
this one (``Litestar(logging_config=None)``, ``granian_log_config``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _Output:
    """Where every line goes: loggers cached before a new configuration (another app in
    the same process, a test's captured output) follow it to the new stream.

    structlog and the standard-library handlers hold locks of their own, and granian's
    processes share one standard output: a line is kept until its newline and written
    whole, under one lock, in one system call where the stream has a file descriptor, so
    two writers never interleave inside a line.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream: TextIO = stream or sys.stdout
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            lines, newline, self._pending = (self._pending + text).rpartition("\n")
            if newline:
                _write_whole(self.stream, lines + newline)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self.stream.flush()


def _write_whole(stream: TextIO, text: str) -> None:
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):  # a captured or in-memory stream
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # what others wrote through the stream's own buffer goes first
    data = text.encode()
    while data:
        data = data[os.write(descriptor, data) :]


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler of granian's processes: whole lines, like every other writer here."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(_Output(stream))


_OUTPUT = _Output()


def _renderer(fmt: str) -> structlog.types.Processor:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer()
    return structlog.processors.JSONRenderer()


def formatter(fmt: str = "json") -> logging.Formatter:
    """The formatter of standard-library records: the same line as a structlog event."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(fmt),
        ],
    )


def configure_logging(level: str = "info", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Sets up structlog and the root logger to write one line per event to ``stream``
    (default standard output)."""
    _OUTPUT.stream = stream or sys.stdout
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    # Loggers cached on first use keep the processor list they found: change that list in
    # place, so a second configuration (another app in the same process) reaches them too.
    processors: list[structlog.types.Processor] = structlog.get_config()["processors"]
    processors[:] = [
        *_SHARED,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        _renderer(fmt),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(_OUTPUT),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_OUTPUT)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # granian's and litestar's loggers come with handlers of their own: send them to ours
    for name in ("_granian", "granian.access", "litestar"):
        library = logging.getLogger(name)
        library.handlers = []
        library.propagate = True


def log_started(process: str) -> None:
    """One line when an HTTP worker or ``commerce worker`` starts, naming its event loop:
    uvloop in both (ADR 0052), which an operator can see without a profiler."""
    loop = type(asyncio.get_running_loop())
    structlog.get_logger(process).info(
        "started", pid=os.getpid(), event_loop=f"{loop.__module__}.{loop.__qualname__}"
    )


def granian_log_config(fmt: str) -> dict[str, Any]:
    """granian's ``log_dictconfig``: its server and worker processes log our lines too."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": {"()": "entrypoints.logs.formatter", "fmt": fmt}},
        "handlers": {
            "console": {
                "formatter": "structured",
                "class": "entrypoints.logs.LineHandler",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


def append_exception(path: Path, event: str, error: BaseException) -> None:
    """Appends one JSON line with ``error``'s traceback to the file ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {
        "event": event,
        "level": "error",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "argv": sys.argv,
        "exception": "".join(traceback.format_exception(error)),
    }
    with path.open("a") as log:
        log.write(json.dumps(line) + "\n")
