"""An unexpected failure of a command: one line for the user, the traceback in a log."""

from __future__ import annotations

from pathlib import Path

import click

from entrypoints.logs import append_exception
from entrypoints.settings import get_settings


def failure_log() -> Path:
    return get_settings().data_dir / "logs" / "commerce-cli.log"


def one_line_failure(error: Exception) -> click.ClickException:
    """Logs ``error`` with its traceback (one JSON line in ``failure_log()``) and returns
    the one-line message to show instead."""
    text = " ".join(str(error).split()) or "no details"
    message = f"unexpected {type(error).__name__}: {text}"
    path = failure_log()
    try:
        append_exception(path, "command failed", error)
    except OSError:  # a read-only DATA_DIR must not hide the error itself
        return click.ClickException(message)
    return click.ClickException(f"{message} (traceback in {path})")
