"""A tenant's fee terms: a plan tier and a negotiated override, kept in its settings."""

from __future__ import annotations

import uuid

import pytest

from adapters.memory.tenants import MemoryTenants
from commerce_core.payments.fees import FeeOverride, FeeSchedule
from commerce_core.shared.errors import InvalidValueError
from commerce_core.tenancy.fee_terms import (
    fee_terms,
    set_fee_terms,
    tenant_fee_schedule,
    tier_schedules,
)
from commerce_core.tenancy.ports.tenants import FeeTier, TenantNotFoundError, TenantSettings
from tests.unit.tenant_shop import TENANT_ID, a_tenant


@pytest.fixture
async def tenants() -> MemoryTenants:
    tenants = MemoryTenants()
    await tenants.add_tenant(a_tenant(TenantSettings(refund_approval_threshold=5_000)))
    return tenants


def test_every_tier_has_its_own_rate() -> None:
    assert tier_schedules() == {
        FeeTier.STARTER: FeeSchedule(basis_points=300),
        FeeTier.PROFESSIONAL: FeeSchedule(basis_points=150),
        FeeTier.ENTERPRISE: FeeSchedule(basis_points=50),
    }


def test_an_override_replaces_only_what_it_names() -> None:
    settings = TenantSettings(fee_tier=FeeTier.PROFESSIONAL, fee_override=FeeOverride(fixed=25))

    assert tenant_fee_schedule(settings) == FeeSchedule(basis_points=150, fixed=25)


async def test_a_new_tier_changes_the_schedule_and_keeps_other_settings(
    tenants: MemoryTenants,
) -> None:
    terms = await set_fee_terms(tenants, TENANT_ID, tier=FeeTier.ENTERPRISE)

    assert terms.schedule == FeeSchedule(basis_points=50)
    tenant = await tenants.get_tenant(TENANT_ID)
    assert tenant is not None
    assert tenant.settings.fee_tier is FeeTier.ENTERPRISE
    assert tenant.settings.refund_approval_threshold == 5_000


async def test_an_override_is_set_kept_and_removed(tenants: MemoryTenants) -> None:
    await set_fee_terms(tenants, TENANT_ID, override=FeeOverride(basis_points=90, fixed=10))
    kept = await set_fee_terms(tenants, TENANT_ID, tier=FeeTier.PROFESSIONAL)
    assert kept.schedule == FeeSchedule(basis_points=90, fixed=10)

    removed = await set_fee_terms(tenants, TENANT_ID, override=None)

    assert (removed.override, removed.schedule) == (None, FeeSchedule(basis_points=150))
    assert (await fee_terms(tenants, TENANT_ID)) == removed


async def test_an_impossible_override_is_refused_and_nothing_stored(
    tenants: MemoryTenants,
) -> None:
    with pytest.raises(InvalidValueError):
        await set_fee_terms(tenants, TENANT_ID, override=FeeOverride(basis_points=10_001))

    assert (await fee_terms(tenants, TENANT_ID)).override is None


async def test_an_unknown_tenant_has_no_terms(tenants: MemoryTenants) -> None:
    with pytest.raises(TenantNotFoundError):
        await fee_terms(tenants, uuid.uuid4())
