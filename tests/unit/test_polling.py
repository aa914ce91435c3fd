"""The background polling loop: busy steps run back to back, idle ones pause, a failing step
is logged and the loop goes on, a timed round always pauses."""

from __future__ import annotations

import asyncio

import pytest

from entrypoints.polling import poll_forever, polling


class Stop(BaseException):
    """Ends the loop from the fake sleep (the loop catches Exception, not this)."""


def run(step_results: list[object], pauses_allowed: int) -> tuple[list[str], list[float]]:
    calls: list[str] = []
    pauses: list[float] = []
    results = iter(step_results)

    async def step() -> int | None:
        result = next(results)
        calls.append(repr(result))
        if isinstance(result, Exception):
            raise result
        assert result is None or isinstance(result, int)
        return result

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) >= pauses_allowed:
            raise Stop

    with pytest.raises(Stop):
        asyncio.run(poll_forever(step, name="test.loop", pause=0.5, sleep=sleep))
    return calls, pauses


def test_busy_steps_run_back_to_back_and_an_idle_one_pauses() -> None:
    calls, pauses = run([3, 1, 0, 2, 0], pauses_allowed=2)
    assert calls == ["3", "1", "0", "2", "0"]
    assert pauses == [0.5, 0.5]


def test_a_failing_step_is_logged_and_the_loop_goes_on_after_a_pause() -> None:
    calls, pauses = run([RuntimeError("database restarting"), 4, 0], pauses_allowed=2)
    assert calls == ["RuntimeError('database restarting')", "4", "0"]
    assert pauses == [0.5, 0.5]


def test_a_round_on_a_timer_always_pauses() -> None:
    calls, pauses = run([None, None, None], pauses_allowed=3)
    assert calls == ["None", "None", "None"]
    assert pauses == [0.5, 0.5, 0.5]


def test_the_loop_stops_when_its_block_ends() -> None:
    steps = 0

    async def main() -> None:
        five = asyncio.Event()

        async def step() -> int:
            nonlocal steps
            steps += 1
            if steps == 5:
                five.set()
            await asyncio.sleep(0)  # a real step awaits its database
            return 1  # always busy: only the cancellation ends it

        async with polling(step, name="test.loop", pause=0.5):
            await five.wait()
        seen = steps
        for _ in range(3):
            await asyncio.sleep(0)
        assert steps == seen

    asyncio.run(main())
