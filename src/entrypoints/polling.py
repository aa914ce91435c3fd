"""One background loop for the workers that poll (merchant webhooks, notifications, POS sync):
run a step, and when it found nothing to do (or after every step, for a round on a timer),
wait before the next. A failing step is logged and the loop goes on: a bad moment (the
database restarting) must not end a worker for the life of the process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog

Step = Callable[[], Awaitable[int | None]]
Sleep = Callable[[float], Awaitable[None]]


async def poll_forever(
    step: Step, *, name: str, pause: float, sleep: Sleep = asyncio.sleep
) -> None:
    """Runs ``step`` until cancelled; after a step that did something (returned a count
    above 0) the next runs at once, otherwise after ``pause`` seconds. A step that returns
    ``None`` is a round on a timer: always followed by the pause."""
    log = structlog.get_logger(name)
    while True:
        try:
            busy = await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("step failed", loop=name)
            busy = 0
        if not busy:
            await sleep(pause)


@asynccontextmanager
async def polling(step: Step, *, name: str, pause: float) -> AsyncIterator[None]:
    """Runs ``poll_forever`` in a task until the block ends, then cancels it."""
    task = asyncio.create_task(poll_forever(step, name=name, pause=pause), name=name)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
