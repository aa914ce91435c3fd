"""The tenant directory contract: every tenant with its settings, oldest first."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.tenant_directory import MemoryTenantDirectory
from adapters.memory.tenants import MemoryTenants
from adapters.postgres.tenant_directory import PostgresTenantDirectory
from adapters.postgres.tenants import PostgresTenants
from commerce_core.payments.fees import FeeOverride
from commerce_core.tenancy.ports.tenant_directory import TenantDirectory
from commerce_core.tenancy.ports.tenants import FeeTier, Tenant, Tenants, TenantSettings
from tests.conftest import PgSchema

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "postgres"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Tenants, TenantDirectory]]:
    if request.param == "memory":
        tenants = MemoryTenants()
        yield tenants, MemoryTenantDirectory(tenants)
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)
    try:
        yield PostgresTenants(pool), PostgresTenantDirectory(pool)
    finally:
        await pool.close()
        await schema.drop()


async def test_every_tenant_is_listed_oldest_first_with_its_settings(
    stores: tuple[Tenants, TenantDirectory],
) -> None:
    tenants, directory = stores
    assert await directory.all_tenants() == []
    terms = TenantSettings(
        fee_tier=FeeTier.ENTERPRISE,
        fee_override=FeeOverride(basis_points=25, fixed=10),
        auto_cancel_unpaid_hours=6,
    )
    newer = Tenant(id=uuid.uuid4(), slug="newer", created_at=AT + timedelta(days=1))
    older = Tenant(id=uuid.uuid4(), slug="older", created_at=AT, settings=terms)
    await tenants.add_tenant(newer)
    await tenants.add_tenant(older)

    assert await directory.all_tenants() == [older, newer]
