"""A tenant's platform fee terms: its plan tier and an optional negotiated override.

Both live in the tenant's settings (``TenantSettings.fee_tier`` and
``fee_override``). A payment records the schedule in force when it is created,
so changing the terms never reprices payments already made.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from commerce_core.payments.fees import FeeOverride, FeeSchedule, fee_schedule
from commerce_core.tenancy.ports.tenants import (
    FeeTier,
    TenantNotFoundError,
    Tenants,
    TenantSettings,
)


@dataclass(frozen=True)
class FeeTerms:
    tier: FeeTier
    override: FeeOverride | None
    schedule: FeeSchedule
    """What a payment created now would be charged: the tier's rate with the override."""


def tenant_fee_schedule(settings: TenantSettings) -> FeeSchedule:
    """The schedule for the tenant's new payments: its tier with its override applied."""
    return fee_schedule(settings.fee_tier, settings.fee_override)


def tier_schedules() -> dict[FeeTier, FeeSchedule]:
    """Every plan tier's own schedule (no override)."""
    return {tier: fee_schedule(tier) for tier in FeeTier}


def terms_of(settings: TenantSettings) -> FeeTerms:
    return FeeTerms(settings.fee_tier, settings.fee_override, tenant_fee_schedule(settings))


async def fee_terms(tenants: Tenants, tenant_id: UUID) -> FeeTerms:
    """The tenant's terms; ``TenantNotFoundError`` for an unknown tenant."""
    tenant = await tenants.get_tenant(tenant_id)
    if tenant is None:
        raise TenantNotFoundError(tenant_id)
    return terms_of(tenant.settings)


async def set_fee_terms(
    tenants: Tenants,
    tenant_id: UUID,
    tier: FeeTier | UnsetType = UNSET,
    override: FeeOverride | UnsetType | None = UNSET,
) -> FeeTerms:
    """Changes the tier and/or the override (``None`` removes it); ``UNSET`` ones stay.

    ``InvalidValueError`` for an override outside 0-10,000 basis points or a negative
    fixed fee, before anything is stored. Only the fee fields are written: an admin's
    concurrent change of another setting stays.
    """
    tenant = await tenants.get_tenant(tenant_id)
    if tenant is None:
        raise TenantNotFoundError(tenant_id)
    changed = tenant.settings
    if tier is not UNSET:
        changed = msgspec.structs.replace(changed, fee_tier=FeeTier(tier))
    if override is not UNSET:
        changed = msgspec.structs.replace(changed, fee_override=override)
    terms = terms_of(changed)  # refuses an invalid override before it is stored
    await tenants.merge_settings(
        tenant_id, {"fee_tier": changed.fee_tier, "fee_override": changed.fee_override}
    )
    return terms
