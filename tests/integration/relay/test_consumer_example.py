"""The consumer example in docs/ works: it reads a tenant's events with a durable consumer,
skips a re-delivered id, and a restarted reader continues where it stopped."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import nats
import pytest

EXAMPLE = (
    Path(__file__).resolve().parents[3] / "docs" / "examples" / "consume_integration_events.py"
)
NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("consume_integration_events", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def event(tenant: str, n: int, event_id: str | None = None) -> bytes:
    body = (
        f'{{"id":"{event_id or uuid.uuid4()}","type":"order.placed","version":1,'
        f'"tenant":"{tenant}","occurred_at":"2026-12-01T10:00:0{n}Z","payload":{{"n":{n}}}}}'
    )
    return body.encode()


async def run_until(example: ModuleType, handled: list[Any], count: int, **kwargs: Any) -> None:
    task = asyncio.create_task(example.follow(NATS_URL, **kwargs))
    try:
        async with asyncio.timeout(15):
            while len(handled) < count:  # noqa: ASYNC110 - the example signals nothing
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_example_reads_once_per_id_and_resumes_after_a_restart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    example = load_example()
    handled: list[dict[str, Any]] = []
    monkeypatch.setattr(example, "handle", handled.append)
    stream, prefix, tenant = f"TEST_{uuid.uuid4().hex[:10].upper()}", "exm", "t-1"
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[f"{prefix}.>"])
    try:
        same = str(uuid.uuid4())
        await js.publish(f"{prefix}.{tenant}.order.placed", event(tenant, 1, same))
        await js.publish(f"{prefix}.{tenant}.order.placed", event(tenant, 1, same))  # again
        await js.publish(f"{prefix}.other.order.placed", event("other", 2))
        args = {"stream": stream, "prefix": prefix, "tenant": tenant, "durable": "reader"}
        await run_until(example, handled, 1, **args)
        # the stopped reader's pull request lives on the server until it expires (5 s) and
        # would take the next message: publish once it is gone
        async with asyncio.timeout(15):
            while (await js.consumer_info(stream, "reader")).num_waiting:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        await js.publish(f"{prefix}.{tenant}.order.placed", event(tenant, 3))
        await run_until(example, handled, 2, **args)  # a new run: only what came since
    finally:
        await js.delete_stream(stream)
        await nc.close()
    assert [e["payload"]["n"] for e in handled] == [1, 3]
    assert {e["tenant"] for e in handled} == {tenant}
