"""Fixtures shared by all tests: a private PostgreSQL schema per test, and event stores."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
import uvloop

from adapters.postgres.connection import create_pool, server_settings
from adapters.postgres.migrate import migrate

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Async tests run on uvloop, the loop of the HTTP workers and `commerce worker`
    (ADR 0052)."""
    return {"uvloop": uvloop.new_event_loop}


class PgSchema:
    """A fresh, migrated schema that exists for one test only."""

    def __init__(self, dsn: str, name: str) -> None:
        self.dsn = dsn
        self.name = name

    async def pool(self, max_size: int = 20) -> asyncpg.Pool:
        return await create_pool(self.dsn, schema=self.name, min_size=1, max_size=max_size)

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn, server_settings=server_settings(self.name))

    async def drop(self) -> None:
        admin = await asyncpg.connect(self.dsn)
        try:
            await admin.execute(f"DROP SCHEMA IF EXISTS {self.name} CASCADE")
        finally:
            await admin.close()

    @classmethod
    async def create(cls, dsn: str = TEST_DATABASE_URL) -> PgSchema:
        schema = cls(dsn, f"test_{uuid.uuid4().hex[:12]}")
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f"CREATE SCHEMA {schema.name}")
        finally:
            await admin.close()
        conn = await schema.connect()
        try:
            await migrate(conn)
        finally:
            await conn.close()
        return schema


@pytest.fixture
async def pg_schema() -> AsyncIterator[PgSchema]:
    schema = await PgSchema.create()
    yield schema
    await schema.drop()


BeforeCommit = Callable[[], Awaitable[None]]
