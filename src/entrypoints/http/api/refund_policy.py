"""Refunds above the tenant's approval threshold need an admin key; a service key
refunds only with the ``refunds`` grant."""

from __future__ import annotations

from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems
from entrypoints.http.problems import problem
from entrypoints.http.roles import may_refund
from entrypoints.http.services import Services, tenant_settings

# What a refund route can answer besides success (OpenAPI).
REFUND_PROBLEMS = command_problems(
    "not-found",
    "forbidden",
    "refund-exceeds-captured",
    "invalid-transition",
    "concurrency-conflict",
    "gateway-unavailable",
    "gateway-error",
)


async def check_refund_allowed(services: Services, principal: Principal, amount: int) -> None:
    may_refund(principal, amount)
    if principal.role == Role.ADMIN:
        return
    threshold = (await tenant_settings(services, principal)).refund_approval_threshold
    if amount > threshold:
        raise problem(
            403,
            "forbidden",
            f"refunds above {threshold} (minor units) need an admin key",
            threshold=threshold,
        )
