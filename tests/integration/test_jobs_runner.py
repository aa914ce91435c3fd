"""The jobs runner: every job periodically (under a lock per job), or one from the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from functools import partial

import asyncpg
import pytest
from click.testing import CliRunner
from dependency_injector import providers

from adapters.postgres.connection import server_settings
from adapters.postgres.projection_locks import PostgresProjectionLocks
from commerce_core.processes.payment_jobs import JobOutcome
from entrypoints.cli import jobs
from entrypoints.container import Container, build_container, open_pool
from entrypoints.jobs import EVERY, JOBS, JobDeps, UnknownJobError, run_job, running_jobs
from entrypoints.settings import Settings, get_settings
from entrypoints.tenancy import create_tenant
from tests.conftest import TEST_DATABASE_URL, PgSchema

WAIT = 20.0


def settings_for(schema: PgSchema | None) -> Settings:
    if schema is None:
        return dataclasses.replace(Settings.from_env(), event_store="memory")
    return dataclasses.replace(
        Settings.from_env(),
        database_url=TEST_DATABASE_URL,
        database_schema=schema.name,
        event_store="postgres",
    )


@pytest.fixture
async def memory_container() -> Container:
    container = build_container(settings_for(None))
    container.pool.override(providers.Object(None))
    return container


@pytest.fixture
async def pg_container(pg_schema: PgSchema) -> AsyncIterator[tuple[Container, Settings]]:
    settings = settings_for(pg_schema)
    container = build_container(settings)
    async with open_pool(settings) as pool:
        container.pool.override(providers.Object(pool))
        yield container, settings


class Seen:
    """Outcomes observed; ``done`` is set once each of ``names`` ran ``times`` times."""

    def __init__(self, times: int, names: list[str] | None = None) -> None:
        self.count: Counter[str] = Counter()
        self.expect(names or list(JOBS), times)

    def expect(self, names: list[str], times: int) -> None:
        self.names, self.times = names, times
        self.done = asyncio.Event()

    def __call__(self, outcome: JobOutcome) -> None:
        self.count[outcome.job.split(" ")[0]] += 1
        if all(self.count[name] >= self.times for name in self.names):
            self.done.set()


async def test_every_job_runs_again_and_again_until_the_block_ends(
    memory_container: Container,
) -> None:
    seen = Seen(times=2)
    deps = JobDeps.from_container(memory_container)

    locks = memory_container.projection_locks()

    async with running_jobs(deps, locks, every=dict.fromkeys(EVERY, 0.001), observe=seen):
        async with asyncio.timeout(WAIT):
            await seen.done.wait()

    assert all(not task.get_name().startswith("job:") for task in asyncio.all_tasks())


async def test_a_job_locked_by_another_process_waits_for_it(
    pg_container: tuple[Container, Settings],
) -> None:
    container, settings = pg_container
    await create_tenant(container.tenants(), "acme", clock=container.clock(), ids=container.ids())
    other_process = PostgresProjectionLocks(
        partial(
            asyncpg.connect,
            TEST_DATABASE_URL,
            server_settings=server_settings(settings.database_schema),
        )
    )
    held = await other_process.try_acquire("job:expire-reservations")
    assert held is not None
    others = [name for name in JOBS if name != "expire-reservations"]
    seen = Seen(times=3, names=others)
    deps = JobDeps.from_container(container)

    locks = container.projection_locks()

    async with running_jobs(deps, locks, every=dict.fromkeys(EVERY, 0.001), observe=seen):
        async with asyncio.timeout(WAIT):
            await seen.done.wait()
        assert seen.count["expire-reservations"] == 0
        seen.expect(["expire-reservations"], times=1)
        await held.release()
        async with asyncio.timeout(WAIT):
            await seen.done.wait()

    await other_process.close()


async def test_an_unknown_job_is_refused(memory_container: Container) -> None:
    with pytest.raises(UnknownJobError):
        await run_job("tidy-up", JobDeps.from_container(memory_container))


@pytest.fixture
def cli_env(pg_schema: PgSchema, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", TEST_DATABASE_URL)
    monkeypatch.setenv("DATABASE_SCHEMA", pg_schema.name)
    monkeypatch.setenv("EVENT_STORE", "postgres")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("cli_env")
async def test_the_cli_runs_one_job_and_prints_its_outcome() -> None:
    runner = CliRunner()

    result = await asyncio.to_thread(
        runner.invoke, jobs.jobs_cli, ["run", "reconcile", "--date", "2026-01-01"]
    )

    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["job"] == "reconcile 2026-01-01"
    assert outcome["errors"] == []
    unknown = await asyncio.to_thread(runner.invoke, jobs.jobs_cli, ["run", "tidy-up"])
    assert unknown.exit_code == 2
