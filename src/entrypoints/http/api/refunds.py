"""Refund approvals: the list of refunds that needed one, approve, reject (ADR 0020).

- ``GET /refunds?status=pending_approval|approved|rejected&limit=&cursor=`` (staff,
  admin): ``{"items", "next_cursor"}``, oldest first, from a read model (it may lag a
  command by a moment).
- ``POST /refunds/{id}/approve`` (admin): the refund runs; 200 Refund.
- ``POST /refunds/{id}/reject`` ``{"reason"}`` (admin): 200 Refund, ``"rejected"``.

Approving or rejecting a refund that is not awaiting approval: 409
``invalid-transition``; one whose payment has no money left for it: 409
``refund-exceeds-captured``; another tenant's: 404.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from commerce_core.payments.refund_approvals import approve_refund, reject_refund
from commerce_core.projections.refund_approvals import (
    ApprovalCursor,
    ApprovalStatus,
    RefundApproval,
    list_refund_approvals,
)
from commerce_core.shared.context import CommandContext
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.api import examples
from entrypoints.http.api.refund_policy import REFUND_PROBLEMS
from entrypoints.http.api.views import RefundOut, refund_out
from entrypoints.http.auth import Principal, requires_role
from entrypoints.http.bundles import payment_services
from entrypoints.http.openapi import query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of


class RejectIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class RefundApprovalList(msgspec.Struct):
    items: list[RefundApproval]
    next_cursor: str | None


def _encode(cursor: ApprovalCursor | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def _decode(raw: str | None) -> ApprovalCursor | None:
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        return msgspec.json.decode(base64.urlsafe_b64decode(padded), type=ApprovalCursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise problem(422, "validation-error", "cursor is not one this API returned") from None


class RefundsController(Controller):
    path = "/refunds"
    tags = ["refunds"]

    @get(
        "/",
        summary="List refunds that needed approval",
        guards=[requires_role(Role.STAFF)],
        responses=query_problems("forbidden"),
    )
    async def list_refunds(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        status: ApprovalStatus | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> RefundApprovalList:
        """Refunds that needed an admin's approval, oldest first; ``status`` filters them."""
        page = await list_refund_approvals(
            services.read_models,
            tenant_of(principal),
            None if status is None else str(status),
            limit,
            _decode(cursor),
        )
        return RefundApprovalList(page.items, _encode(page.next_cursor))

    @post(
        "/{refund_id:uuid}/approve",
        summary="Approve a refund",
        status_code=200,
        guards=[requires_role(Role.ADMIN)],
        responses=REFUND_PROBLEMS,
    )
    async def approve(
        self,
        refund_id: FromPath[UUID],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> RefundOut:
        """Approves a refund awaiting approval: it is sent back through the gateway now."""
        refund = await approve_refund(
            await payment_services(services, ctx.tenant_id), ctx, refund_id
        )
        return refund_out(refund)

    @post(
        "/{refund_id:uuid}/reject",
        summary="Reject a refund",
        status_code=200,
        guards=[requires_role(Role.ADMIN)],
        responses=REFUND_PROBLEMS,
    )
    async def reject(
        self,
        refund_id: FromPath[UUID],
        data: Annotated[RejectIn, examples.REJECTION],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> RefundOut:
        """Rejects a refund awaiting approval, with the reason; no money moves."""
        refund = await reject_refund(
            await payment_services(services, ctx.tenant_id), ctx, refund_id, data.reason
        )
        return refund_out(refund)
