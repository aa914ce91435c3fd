"""A command that fails unexpectedly: one line for the user, the traceback in the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from entrypoints.cli import Commands
from entrypoints.cli.runtime import redact
from entrypoints.settings import get_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@click.group(cls=Commands)
def group() -> None:
    pass


@group.command()
def explode() -> None:
    raise KeyError("data\nwith two lines")


@group.command()
def refuse() -> None:
    raise click.ClickException("no tenant 'x'")


def test_an_unexpected_exception_is_one_line_and_its_traceback_is_logged(data_dir: Path) -> None:
    result = CliRunner().invoke(group, ["explode"])

    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "unexpected KeyError" in result.output
    assert "Traceback" not in result.output
    (line,) = (data_dir / "logs" / "commerce-cli.log").read_text().splitlines()
    logged = json.loads(line)
    assert logged["exception"].startswith("Traceback")
    assert "KeyError" in logged["exception"]


def test_an_expected_refusal_keeps_its_own_message(data_dir: Path) -> None:
    result = CliRunner().invoke(group, ["refuse"])

    assert result.exit_code == 1
    assert result.output.strip() == "Error: no tenant 'x'"
    assert not (data_dir / "logs").exists()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://ops:s3cret@db:5432/shop", "postgresql://ops:***@db:5432/shop"),
        ("postgresql://postgres:@/postgres?host=/x", "postgresql://postgres:@/postgres?host=/x"),
        ("postgresql://db/shop", "postgresql://db/shop"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact(url) == shown
