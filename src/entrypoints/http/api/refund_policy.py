"""Who may refund how much without an admin's approval (ADR 0020).

Card refunds, and cancels that refund, by a key other than ``admin`` carry the
tenant's threshold in their command context; the use case holds a refund that takes
the order's refunds above it for approval. Manual refunds (money handed back by
hand) have no approval flow: above the threshold per request they need an admin key.
A ``service`` key refunds nothing without the ``refunds`` grant (``roles.may_refund``).
"""

from __future__ import annotations

import dataclasses

from commerce_core.shared.context import CommandContext
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


async def refund_ctx(
    services: Services, principal: Principal, ctx: CommandContext
) -> CommandContext:
    """The context of a command that may refund: with the tenant's approval threshold,
    unless the caller is an admin (whose refunds run directly)."""
    if principal.role == Role.ADMIN:
        return ctx
    threshold = (await tenant_settings(services, principal)).refund_approval_threshold
    return dataclasses.replace(ctx, refund_approval_above=threshold)


async def check_refund_allowed(services: Services, principal: Principal, amount: int) -> None:
    """Manual refunds: one above the threshold needs an admin key."""
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
