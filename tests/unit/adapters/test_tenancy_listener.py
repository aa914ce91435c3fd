"""The tenancy change listener keeps trying: a listener that gave up would leave every
cached tenant and key to the TTL alone (ADR 0050)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID, uuid4

from adapters.postgres.tenancy_changes import CHANNEL, TenancyListener


class Forgotten:
    def __init__(self) -> None:
        self.tenants: list[UUID] = []
        self.keys: list[str] = []
        self.all = 0

    def forget_tenant(self, tenant_id: UUID) -> None:
        self.tenants.append(tenant_id)

    def forget_key(self, key_hash: str) -> None:
        self.keys.append(key_hash)

    def forget_all(self) -> None:
        self.all += 1


class FakeConnection:
    """What the listener uses of an asyncpg connection."""

    def __init__(self) -> None:
        self.listeners: dict[str, Any] = {}
        self.on_lost: list[Any] = []

    def add_termination_listener(self, callback: Any) -> None:
        self.on_lost.append(callback)

    async def add_listener(self, channel: str, callback: Any) -> None:
        self.listeners[channel] = callback

    def get_server_pid(self) -> int:
        return 4242

    async def execute(self, _query: str) -> None:
        return None

    async def close(self, **_: object) -> None:
        return None

    def notify(self, payload: str) -> None:
        self.listeners[CHANNEL](self, 1, CHANNEL, payload)

    def lose(self) -> None:
        for callback in self.on_lost:
            callback(self)


async def test_it_retries_failed_connections_then_listens_and_forgets_what_is_announced() -> None:
    cache, conn = Forgotten(), FakeConnection()
    attempts = [OSError("refused"), TimeoutError(), conn]

    async def connect() -> Any:
        outcome = attempts.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    listener = TenancyListener(connect, cache, "mine", retry_seconds=0)
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.listening.wait(), 5)
        tenant_id = uuid4()
        conn.notify(f"mine:tenants:{tenant_id}")
        conn.notify("mine:api_keys:abc123")
        conn.notify(f"theirs:tenants:{uuid4()}")

        assert (cache.tenants, cache.keys, cache.all) == ([tenant_id], ["abc123"], 1)
        assert listener.backend_pid == 4242
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_lost_connection_is_replaced_and_everything_forgotten_again() -> None:
    cache, first, second = Forgotten(), FakeConnection(), FakeConnection()
    connections = [first, second]

    async def connect() -> Any:
        return connections.pop(0)

    listener = TenancyListener(connect, cache, None, retry_seconds=0, ping_seconds=60)
    task = asyncio.create_task(listener.run())
    try:
        await asyncio.wait_for(listener.listening.wait(), 5)
        first.lose()
        async with asyncio.timeout(5):
            while cache.all < 2 or not listener.listening.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0)

        assert CHANNEL in second.listeners
        assert not connections
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
