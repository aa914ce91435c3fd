"""The operators' commands for tenants and keys, run as processes against a private schema."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.clock import RandomIds, SystemClock
from adapters.postgres.tenants import PostgresTenants
from commerce_core.tenancy.ports.tenants import Role, hash_api_key
from entrypoints.tenancy import demo_admin_key
from tests.conftest import TEST_DATABASE_URL, PgSchema

COMMERCE = str(Path(sys.executable).with_name("commerce"))


class Cli:
    def __init__(self, schema: PgSchema) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": TEST_DATABASE_URL,
            "DATABASE_SCHEMA": schema.name,
            "EVENT_STORE": "postgres",
        }

    async def run(self, *args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            COMMERCE,
            *args,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    async def json(self, *args: str) -> dict[str, Any]:
        code, out, err = await self.run(*args)
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)
        return result


@pytest.fixture
def cli(pg_schema: PgSchema) -> Cli:
    return Cli(pg_schema)


@pytest.fixture
async def tenants(pg_schema: PgSchema) -> AsyncIterator[PostgresTenants]:
    pool = await pg_schema.pool(max_size=2)
    yield PostgresTenants(pool)
    await pool.close()


async def test_tenant_create_prints_the_tenant_and_an_admin_key(
    cli: Cli, tenants: PostgresTenants
) -> None:
    created = await cli.json("tenant", "create", "acme")

    tenant = await tenants.tenant_by_slug("acme")
    assert tenant is not None
    assert created["tenant_id"] == str(tenant.id)
    assert created["api_key"].startswith("ck_live_")
    assert len(created["api_key"]) == len("ck_live_") + 43  # 32 bytes, urlsafe base64
    key = await tenants.key_by_hash(hash_api_key(created["api_key"]))
    assert key is not None
    assert (key.tenant_id, key.role, str(key.id)) == (tenant.id, Role.ADMIN, created["key_id"])


async def test_only_the_hash_of_a_key_is_stored(cli: Cli, pg_schema: PgSchema) -> None:
    created = await cli.json("tenant", "create", "acme")

    conn = await pg_schema.connect()
    try:
        dump = str(await conn.fetch("SELECT * FROM api_keys"))
    finally:
        await conn.close()
    assert created["api_key"] not in dump
    assert created["api_key"].removeprefix("ck_live_") not in dump
    assert hash_api_key(created["api_key"]) in dump


async def test_key_create_issues_a_key_of_the_role_for_the_tenant(
    cli: Cli, tenants: PostgresTenants
) -> None:
    created = await cli.json("tenant", "create", "acme")

    issued = await cli.json("key", "create", "--tenant", "acme", "--role", "staff")

    key = await tenants.key_by_hash(hash_api_key(issued["api_key"]))
    assert key is not None
    assert (str(key.tenant_id), key.role) == (created["tenant_id"], Role.STAFF)
    assert issued["api_key"] != created["api_key"]


async def test_key_revoke_revokes_once(cli: Cli, tenants: PostgresTenants) -> None:
    created = await cli.json("tenant", "create", "acme")

    revoked = await cli.json("key", "revoke", created["key_id"])
    code, _, err = await cli.run("key", "revoke", created["key_id"])

    assert revoked == {"revoked": created["key_id"]}
    key = await tenants.key_by_hash(hash_api_key(created["api_key"]))
    assert key is not None
    assert not key.active
    assert code == 1
    assert "no active key" in err


async def test_an_existing_slug_is_refused_and_no_key_printed(cli: Cli) -> None:
    await cli.json("tenant", "create", "acme")

    code, out, err = await cli.run("tenant", "create", "acme")

    assert code == 1
    assert out == ""
    assert "exists already" in err


async def test_a_bad_slug_or_unknown_tenant_or_role_is_refused(cli: Cli) -> None:
    bad_slug = await cli.run("tenant", "create", "Not A Slug")
    unknown = await cli.run("key", "create", "--tenant", "nobody", "--role", "staff")
    bad_role = await cli.run("key", "create", "--tenant", "acme", "--role", "root")

    assert bad_slug[0] == 2
    assert "invalid tenant slug" in bad_slug[2]
    assert unknown[0] == 1
    assert "no tenant 'nobody'" in unknown[2]
    assert bad_role[0] == 2


async def test_the_demo_tenant_is_created_once_with_a_new_key_each_start(
    tenants: PostgresTenants,
) -> None:
    first_tenant, first = await demo_admin_key(tenants, clock=SystemClock(), ids=RandomIds())
    second_tenant, second = await demo_admin_key(tenants, clock=SystemClock(), ids=RandomIds())

    assert first_tenant == second_tenant
    assert first_tenant.slug == "demo"
    assert first.secret != second.secret
    keys = await tenants.keys_of(first_tenant.id)
    assert {k.id for k in keys} == {first.key.id, second.key.id}
    assert {k.role for k in keys} == {Role.ADMIN}
