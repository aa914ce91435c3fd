"""Where the buckets' state lives: this process's memory, or Redis shared by every node."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from pyrate_limiter import InMemoryStateStore, RedisStateStore, StateStore
from redis.asyncio import Redis
from redis.exceptions import RedisError


class States(Protocol):
    """A state store per key, and the errors its storage may raise."""

    errors: tuple[type[Exception], ...]

    def store(self, key: str) -> StateStore: ...

    async def close(self) -> None: ...


class MemoryStates:
    """Buckets of this process; the least recently used go once ``max_keys`` are kept."""

    errors: tuple[type[Exception], ...] = ()

    def __init__(self, max_keys: int = 100_000) -> None:
        self._max_keys = max_keys
        self._stores: OrderedDict[str, InMemoryStateStore] = OrderedDict()

    def store(self, key: str) -> StateStore:
        store = self._stores.get(key)
        if store is None:
            if len(self._stores) >= self._max_keys:
                self._stores.popitem(last=False)
            store = self._stores[key] = InMemoryStateStore()
        else:
            self._stores.move_to_end(key)
        return store

    async def close(self) -> None:
        self._stores.clear()


class RedisStates:
    """One Redis hash per key (under ``prefix``), updated by a Lua script: atomic across
    nodes, and expiring by itself once the bucket is full again."""

    errors: tuple[type[Exception], ...] = (RedisError, OSError, TimeoutError)

    def __init__(self, client: Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str, timeout: float = 0.5) -> RedisStates:
        # a short timeout: a slow Redis must not hold requests up (they go through instead)
        client = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        return cls(client, prefix)

    def store(self, key: str) -> StateStore:
        return RedisStateStore(self._client, self._prefix + key)

    async def close(self) -> None:
        await self._client.aclose()
