"""The tests' event loop is the one production runs on (ADR 0052)."""

from __future__ import annotations

import asyncio


async def test_async_tests_run_on_uvloop() -> None:
    assert type(asyncio.get_running_loop()).__module__ == "uvloop"
