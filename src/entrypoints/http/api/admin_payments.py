"""Payment administration (role admin): the tenant's gateway accounts, fee terms, and
daily reconciliation reports.

- ``PUT /admin/gateways/{gateway}`` (API.md), ``GET /admin/gateways`` and
  ``GET /admin/gateways/{gateway}``: secrets are write-only.
- ``GET /admin/fee-tiers``: every plan tier, and this tenant's tier, override and the
  resulting schedule. Operators change them (``entrypoints/http/api/platform.py``): a
  tenant does not set its own price.
- ``GET /admin/reconciliation/{date}``: the tenant's report for a UTC day (404 until
  the reconciliation job has run for that day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from msgspec import UNSET, UnsetType

from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.gateway_settings import (
    ConfigureGateway,
    configure_gateway,
    gateway_summaries,
    gateway_summary,
)
from commerce_core.payments.ports.gateway_configs import (
    GatewayConfigs,
    GatewayCredentials,
    GatewaySummary,
)
from commerce_core.payments.ports.reconciliation import (
    DiscrepancyKind,
    ReconciliationReport,
    ReconciliationReports,
)
from commerce_core.tenancy.fee_terms import FeeTerms, fee_terms, tier_schedules
from commerce_core.tenancy.ports.tenants import FeeTier
from entrypoints.http.api import examples
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Gateways, Services

_Key = Annotated[str, msgspec.Meta(max_length=255)]


@dataclass(frozen=True)
class PaymentAdmin:
    """What these routes need beyond ``Services``, from the app's container."""

    configs: GatewayConfigs
    gateways: Gateways
    reports: ReconciliationReports

    @classmethod
    def from_container(cls, container: Any) -> PaymentAdmin:
        return cls(
            configs=container.gateway_configs(),
            gateways=container.gateway_resolver(),
            reports=container.reconciliation_reports(),
        )


def provide_payment_admin(request: Request[Any, Any, Any]) -> PaymentAdmin:
    """Made on first use from the app's container (its pool is open by then)."""
    state = request.app.state
    admin: PaymentAdmin | None = state.get("payment_admin")
    if admin is None:
        admin = PaymentAdmin.from_container(state.container)
        state.payment_admin = admin
    return admin


_DEPENDENCIES = {"admin": Provide(provide_payment_admin, sync_to_thread=False)}


class GatewayConfigIn(msgspec.Struct, forbid_unknown_fields=True):
    secret_key: Annotated[_Key, msgspec.Meta(pattern=r"^(sk|rk)_\w+$")]
    webhook_secret: Annotated[_Key, msgspec.Meta(pattern=r"^whsec_\w+$")]
    publishable_key: Annotated[_Key, msgspec.Meta(pattern=r"^pk_\w+$")] | None = None
    enabled: bool = True


class GatewayOut(msgspec.Struct):
    gateway: str
    enabled: bool
    configured_at: datetime
    publishable_key: str | None

    @classmethod
    def of(cls, summary: GatewaySummary) -> GatewayOut:
        return cls(summary.gateway, summary.enabled, summary.configured_at, summary.publishable_key)


class GatewaysAdminController(Controller):
    path = "/admin/gateways"
    tags = ["admin"]
    dependencies = _DEPENDENCIES

    @put(
        "/{gateway:str}",
        summary="Configure a payment gateway",
        status_code=200,
        responses=command_problems("forbidden"),
    )
    async def configure(
        self,
        gateway: FromPath[str],
        data: Annotated[GatewayConfigIn, examples.GATEWAY],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        admin: NamedDependency[PaymentAdmin],
    ) -> GatewayOut:
        """Stores the tenant's own account at the gateway (``stripe``); its payments then go
        through it. Secrets are stored encrypted and never returned. ``enabled: false``
        keeps the account but uses the platform's default gateway."""
        command = ConfigureGateway(
            gateway=gateway,
            credentials=GatewayCredentials(
                secret_key=data.secret_key, webhook_secret=data.webhook_secret
            ),
            publishable_key=data.publishable_key,
            enabled=data.enabled,
        )
        summary = await configure_gateway(
            admin.configs, services.clock, principal.tenant_id, command
        )
        admin.gateways.invalidate(principal.tenant_id)
        return GatewayOut.of(summary)

    @get(
        "/{gateway:str}",
        summary="Show one gateway account",
        responses=query_problems("forbidden", "not-found"),
    )
    async def show_gateway(
        self,
        gateway: FromPath[str],
        principal: NamedDependency[Principal],
        admin: NamedDependency[PaymentAdmin],
    ) -> GatewayOut:
        """The tenant's account at ``gateway``: whether it is enabled, when it was
        configured and its publishable key; never its secrets. Role: admin. Changes
        nothing. 404 ``not-found`` if this tenant never configured that gateway (another
        tenant's account is invisible)."""
        summary = await gateway_summary(admin.configs, principal.tenant_id, gateway)
        if summary is None:
            raise problem(
                404,
                "not-found",
                f"no {gateway!r} account is configured for this tenant: "
                f"PUT /admin/gateways/{gateway} configures one",
            )
        return GatewayOut.of(summary)

    @get("/", summary="List payment gateways", responses=query_problems("forbidden"))
    async def list_gateways(
        self, principal: NamedDependency[Principal], admin: NamedDependency[PaymentAdmin]
    ) -> list[GatewayOut]:
        """The tenant's configured gateway accounts, without their secrets."""
        summaries = await gateway_summaries(admin.configs, principal.tenant_id)
        return [GatewayOut.of(s) for s in summaries]


class ScheduleOut(msgspec.Struct):
    basis_points: int
    fixed: int

    @classmethod
    def of(cls, schedule: FeeSchedule) -> ScheduleOut:
        return cls(schedule.basis_points, schedule.fixed)


class TierOut(msgspec.Struct):
    tier: str
    basis_points: int
    fixed: int


class OverrideOut(msgspec.Struct):
    basis_points: int | None
    fixed: int | None


class FeeTermsOut(msgspec.Struct):
    tiers: list[TierOut]
    tier: str
    override: OverrideOut | None
    effective: ScheduleOut

    @classmethod
    def of(cls, terms: FeeTerms) -> FeeTermsOut:
        tiers = [TierOut(str(t), s.basis_points, s.fixed) for t, s in tier_schedules().items()]
        override = terms.override
        return cls(
            tiers=tiers,
            tier=str(terms.tier),
            override=None
            if override is None
            else OverrideOut(override.basis_points, override.fixed),
            effective=ScheduleOut.of(terms.schedule),
        )


class OverrideIn(msgspec.Struct, forbid_unknown_fields=True):
    """A field left out keeps the tier's value."""

    basis_points: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    fixed: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)] | None = None


class FeeTermsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out stay as they are; ``override: null`` removes the override."""

    tier: FeeTier | UnsetType = UNSET
    override: OverrideIn | UnsetType | None = UNSET


class FeeTiersAdminController(Controller):
    path = "/admin/fee-tiers"
    tags = ["admin"]

    @get("/", summary="Show the tenant's own fee terms", responses=query_problems("forbidden"))
    async def show(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal]
    ) -> FeeTermsOut:
        """Every plan tier's platform fee, and this tenant's tier, override and the
        schedule its new payments get."""
        return FeeTermsOut.of(await fee_terms(services.tenants, principal.tenant_id))


class DiscrepancyOut(msgspec.Struct):
    payment_id: UUID
    order_id: UUID
    gateway: str
    gateway_payment_id: str | None
    kind: DiscrepancyKind
    currency: str
    ours: int | None
    theirs: int | None
    detail: str


class ReconciliationOut(msgspec.Struct):
    date: date
    generated_at: datetime
    complete: bool
    payments_checked: int
    discrepancies: list[DiscrepancyOut]

    @classmethod
    def of(cls, report: ReconciliationReport) -> ReconciliationOut:
        found = [
            DiscrepancyOut(
                d.payment_id,
                d.order_id,
                d.gateway,
                d.gateway_payment_id,
                d.kind,
                d.currency,
                d.ours,
                d.theirs,
                d.detail,
            )
            for d in report.discrepancies
        ]
        return cls(report.day, report.generated_at, report.complete, report.payments_checked, found)


class ReconciliationAdminController(Controller):
    path = "/admin/reconciliation"
    tags = ["admin"]
    dependencies = _DEPENDENCIES

    @get(
        "/{day:date}",
        summary="Show a day's reconciliation",
        responses=query_problems("forbidden", "not-found"),
    )
    async def report(
        self,
        day: FromPath[date],
        principal: NamedDependency[Principal],
        admin: NamedDependency[PaymentAdmin],
    ) -> ReconciliationOut:
        """The day's (UTC) card payments that differ from the gateway's records: amounts
        captured or refunded, status, fees. ``complete: false`` when the gateway did not
        answer for some (they are listed as ``unchecked``)."""
        found = await admin.reports.get(str(principal.tenant_id), day)
        if found is None:
            raise problem(404, "not-found", f"no reconciliation for {day.isoformat()} yet")
        return ReconciliationOut.of(found)
