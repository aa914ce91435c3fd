"""The platform's own routes (operator keys; the role matrix in ``entrypoints/http/roles.py``).

- ``GET /admin/tenants``: every tenant, with its fee tier.
- ``GET /admin/tenants/{tenant_id}/fee-tiers``: as a tenant's ``GET /admin/fee-tiers``.
- ``PUT /admin/tenants/{tenant_id}/fee-tiers``: changes its tier and/or fee override
  (``"override": null`` removes it). New payments use the new terms; payments made
  already keep theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath
from msgspec import UNSET, UnsetType

from commerce_core.payments.fees import FeeOverride
from commerce_core.tenancy.fee_terms import fee_terms, set_fee_terms
from commerce_core.tenancy.ports.tenants import PLATFORM_SLUG, TenantNotFoundError
from entrypoints.http.api import examples
from entrypoints.http.api.admin_payments import FeeTermsIn, FeeTermsOut, OverrideIn
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services


class TenantOut(msgspec.Struct):
    id: UUID
    slug: str
    created_at: datetime
    fee_tier: str


class TenantsAdminController(Controller):
    path = "/admin/tenants"
    tags = ["platform"]

    @get("/", summary="List tenants", responses=query_problems("forbidden"))
    async def list_tenants(self, services: NamedDependency[Services]) -> list[TenantOut]:
        """Every tenant (the operators' own ``platform`` tenant left out), oldest first."""
        return [
            TenantOut(t.id, t.slug, t.created_at, str(t.settings.fee_tier))
            for t in await services.tenants.all_tenants()
            if t.slug != PLATFORM_SLUG
        ]

    @get(
        "/{tenant_id:uuid}/fee-tiers",
        summary="Show a tenant's fee terms",
        responses=query_problems("forbidden", "not-found"),
    )
    async def show_fee_terms(
        self, tenant_id: FromPath[UUID], services: NamedDependency[Services]
    ) -> FeeTermsOut:
        """Every plan tier's platform fee, and the tenant's tier, override and schedule."""
        try:
            return FeeTermsOut.of(await fee_terms(services.tenants, tenant_id))
        except TenantNotFoundError:
            raise problem(404, "not-found", f"no tenant {tenant_id}") from None

    @put(
        "/{tenant_id:uuid}/fee-tiers",
        summary="Change a tenant's fee terms",
        status_code=200,
        responses=command_problems("forbidden", "not-found"),
    )
    async def change_fee_terms(
        self,
        tenant_id: FromPath[UUID],
        data: Annotated[FeeTermsIn, examples.FEE_TERMS],
        services: NamedDependency[Services],
    ) -> FeeTermsOut:
        """Changes the tenant's tier and/or fee override; payments made already keep
        the terms they were made with."""
        override: FeeOverride | UnsetType | None = UNSET
        if isinstance(data.override, OverrideIn):
            override = FeeOverride(
                basis_points=data.override.basis_points, fixed=data.override.fixed
            )
        elif data.override is None:
            override = None
        try:
            terms = await set_fee_terms(services.tenants, tenant_id, data.tier, override)
        except TenantNotFoundError:
            raise problem(404, "not-found", f"no tenant {tenant_id}") from None
        return FeeTermsOut.of(terms)
