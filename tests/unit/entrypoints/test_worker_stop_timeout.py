"""WORKER_STOP_TIMEOUT: granian takes 0 for "wait for ever", so fewer than 1 second is refused."""

from __future__ import annotations

import pytest

from entrypoints.settings import Settings


def test_the_worker_stop_timeout_is_read_in_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_STOP_TIMEOUT", "7")
    assert Settings.from_env().worker_stop_timeout == 7
    monkeypatch.delenv("WORKER_STOP_TIMEOUT")
    assert Settings.from_env().worker_stop_timeout == 30


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_worker_stop_timeout_under_a_second_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("WORKER_STOP_TIMEOUT", value)
    with pytest.raises(ValueError, match="WORKER_STOP_TIMEOUT must be at least 1"):
        Settings.from_env()
