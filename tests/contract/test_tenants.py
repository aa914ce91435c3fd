"""The tenants store contract, run against every adapter."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from adapters.memory.cached_tenants import CachedTenants
from adapters.memory.tenants import MemoryTenants
from adapters.postgres.tenants import PostgresTenants
from commerce_core.shared.errors import InvalidValueError
from commerce_core.tenancy.ports.tenants import (
    ApiKey,
    FeeTier,
    Grant,
    Role,
    Tenant,
    TenantExistsError,
    TenantNotFoundError,
    Tenants,
    TenantSettings,
    check_slug,
    hash_api_key,
)
from tests.conftest import PgSchema

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "postgres", "cached"])
async def tenants(request: pytest.FixtureRequest) -> AsyncIterator[Tenants]:
    if request.param == "memory":
        yield MemoryTenants()
        return
    if request.param == "cached":  # the HTTP processes' cache keeps the contract (ADR 0050)
        yield CachedTenants(MemoryTenants(), ttl=300)
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)
    try:
        yield PostgresTenants(pool)
    finally:
        await pool.close()
        await schema.drop()


def a_tenant(slug: str = "acme", settings: TenantSettings | None = None) -> Tenant:
    return Tenant(id=uuid.uuid4(), slug=slug, created_at=AT, settings=settings or TenantSettings())


def a_key(tenant: Tenant, role: Role = Role.STAFF, secret: str | None = None) -> ApiKey:
    return ApiKey(
        id=uuid.uuid4(),
        tenant_id=tenant.id,
        role=role,
        key_hash=hash_api_key(secret or f"ck_live_{uuid.uuid4().hex}"),
        created_at=AT,
    )


async def test_a_tenant_is_found_by_id_and_by_slug_with_its_settings(tenants: Tenants) -> None:
    tenant = a_tenant(
        settings=TenantSettings(fee_tier=FeeTier.ENTERPRISE, refund_approval_threshold=5_000)
    )
    await tenants.add_tenant(tenant)

    assert await tenants.get_tenant(tenant.id) == tenant
    assert await tenants.tenant_by_slug("acme") == tenant
    assert await tenants.get_tenant(uuid.uuid4()) is None
    assert await tenants.tenant_by_slug("nobody") is None


async def test_a_slug_belongs_to_one_tenant_only(tenants: Tenants) -> None:
    await tenants.add_tenant(a_tenant("acme"))

    with pytest.raises(TenantExistsError):
        await tenants.add_tenant(a_tenant("acme"))


async def test_settings_are_replaced_as_a_whole(tenants: Tenants) -> None:
    tenant = a_tenant()
    await tenants.add_tenant(tenant)

    new = TenantSettings(fee_tier=FeeTier.PROFESSIONAL, auto_cancel_unpaid_hours=48)
    await tenants.update_settings(tenant.id, new)

    stored = await tenants.get_tenant(tenant.id)
    assert stored is not None
    assert stored.settings == new
    with pytest.raises(TenantNotFoundError):
        await tenants.update_settings(uuid.uuid4(), new)


async def test_written_settings_fields_replace_only_themselves_and_never_go_back(
    tenants: Tenants,
) -> None:
    tenant = a_tenant(settings=TenantSettings(fee_tier=FeeTier.ENTERPRISE))
    await tenants.add_tenant(tenant)

    wrote = await tenants.write_settings(
        tenant.id, {"reservation_minutes": 45, "segment_rules": {"vip_min_orders": 5}}, 3
    )
    late = await tenants.write_settings(tenant.id, {"reservation_minutes": 10}, 2)
    again = await tenants.write_settings(tenant.id, {"reservation_minutes": 10}, 3)

    stored = await tenants.get_tenant(tenant.id)
    assert stored is not None
    assert (wrote, late, again) == (True, False, False)
    assert stored.settings_version == 3
    assert stored.settings.reservation_minutes == 45
    assert stored.settings.segment_rules.vip_min_orders == 5
    assert stored.settings.fee_tier is FeeTier.ENTERPRISE
    with pytest.raises(TenantNotFoundError):
        await tenants.write_settings(uuid.uuid4(), {"reservation_minutes": 1}, 1)


async def test_merged_operator_fields_leave_an_admins_written_settings_alone(
    tenants: Tenants,
) -> None:
    tenant = a_tenant()
    await tenants.add_tenant(tenant)
    await tenants.write_settings(tenant.id, {"reservation_minutes": 45}, 1)

    await tenants.merge_settings(tenant.id, {"fee_tier": FeeTier.PROFESSIONAL})

    stored = await tenants.get_tenant(tenant.id)
    assert stored is not None
    assert stored.settings.fee_tier is FeeTier.PROFESSIONAL
    assert stored.settings.reservation_minutes == 45
    assert stored.settings_version == 1
    with pytest.raises(TenantNotFoundError):
        await tenants.merge_settings(uuid.uuid4(), {"fee_tier": FeeTier.STARTER})


async def test_a_key_is_found_by_the_hash_of_its_secret(tenants: Tenants) -> None:
    tenant = a_tenant()
    await tenants.add_tenant(tenant)
    key = a_key(tenant, Role.ADMIN, secret="ck_live_secret")
    await tenants.add_key(key)

    assert await tenants.key_by_hash(hash_api_key("ck_live_secret")) == key
    assert await tenants.key_by_hash(hash_api_key("ck_live_other")) is None


async def test_a_key_needs_an_existing_tenant(tenants: Tenants) -> None:
    with pytest.raises(TenantNotFoundError):
        await tenants.add_key(a_key(a_tenant()))


async def test_a_revoked_key_stays_revoked_from_its_first_revocation(tenants: Tenants) -> None:
    tenant = a_tenant()
    await tenants.add_tenant(tenant)
    key = a_key(tenant)
    await tenants.add_key(key)

    assert await tenants.revoke_key(key.id, AT + timedelta(hours=1)) is True
    assert await tenants.revoke_key(key.id, AT + timedelta(hours=2)) is False
    assert await tenants.revoke_key(uuid.uuid4(), AT) is False

    stored = await tenants.key_by_hash(key.key_hash)
    assert stored is not None
    assert not stored.active
    assert stored.revoked_at == AT + timedelta(hours=1)


async def test_a_tenant_lists_only_its_own_keys_oldest_first(tenants: Tenants) -> None:
    acme, globex = a_tenant("acme"), a_tenant("globex")
    await tenants.add_tenant(acme)
    await tenants.add_tenant(globex)
    older = a_key(acme, Role.ADMIN)
    newer = ApiKey(
        id=uuid.uuid4(),
        tenant_id=acme.id,
        role=Role.SERVICE,
        key_hash=hash_api_key("ck_live_newer"),
        created_at=AT + timedelta(minutes=1),
    )
    await tenants.add_key(newer)
    await tenants.add_key(older)
    await tenants.add_key(a_key(globex))

    assert await tenants.keys_of(acme.id) == [older, newer]


def test_settings_refuse_impossible_values() -> None:
    with pytest.raises(InvalidValueError):
        TenantSettings(refund_approval_threshold=-1)
    with pytest.raises(InvalidValueError):
        TenantSettings(auto_cancel_unpaid_hours=0)


@pytest.mark.parametrize("slug", ["", "Acme", "-acme", "acme-", "a_b", "a" * 64, "a b"])
def test_slugs_are_lower_case_dns_labels(slug: str) -> None:
    with pytest.raises(InvalidValueError):
        check_slug(slug)


def test_a_good_slug_passes() -> None:
    assert check_slug("acme-2") == "acme-2"


async def test_a_key_keeps_its_role_and_grants(tenants: Tenants) -> None:
    platform, acme = a_tenant("platform"), a_tenant("acme")
    await tenants.add_tenant(platform)
    await tenants.add_tenant(acme)
    operator = a_key(platform, Role.OPERATOR)
    granted = msgspec.structs.replace(a_key(acme, Role.SERVICE), grants=frozenset({Grant.REFUNDS}))
    await tenants.add_key(operator)
    await tenants.add_key(granted)

    assert await tenants.key_by_hash(operator.key_hash) == operator
    assert await tenants.key_by_hash(granted.key_hash) == granted
    assert await tenants.revoke_key(granted.id, AT)
    revoked = await tenants.key_by_hash(granted.key_hash)
    assert revoked is not None
    assert revoked.grants == {Grant.REFUNDS}


async def test_all_tenants_are_listed_oldest_first(tenants: Tenants) -> None:
    newer = Tenant(id=uuid.uuid4(), slug="newer", created_at=AT + timedelta(days=1))
    older = a_tenant("older")
    await tenants.add_tenant(newer)
    await tenants.add_tenant(older)

    assert await tenants.all_tenants() == [older, newer]
