"""Refunds that needed an admin's approval: one row each, for ``GET /refunds?status=``.

A row appears when a refund is recorded as awaiting approval and follows its
decision (``approved`` or ``rejected``, by whom, when, why). What happens to an
approved refund afterwards (the gateway's answer) is on the payment. Rows per
tenant awaiting a decision are few, so a page is cut from the tenant's rows of
one status, oldest first (the order an admin works through them).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec

from commerce_core.eventstore import RecordedEvent
from commerce_core.payments.payment import Payment
from commerce_core.projections.changes import Change, Upsert
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

Events: Any = Payment  # the event classes are made by the @event decorator at run time

TABLE = "refund_approvals"

REFUND_APPROVALS_TABLE = TableSpec(
    TABLE,
    key=("tenant_id", "refund_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("refund_id", "uuid"),
        Column("order_id", "uuid"),
        Column("payment_id", "uuid"),
        Column("amount", "int", default=0),
        Column("currency", "text"),
        Column("reason", "text"),
        Column("status", "text"),
        Column("requested_by", "text"),
        Column("requested_at", "timestamptz"),
        Column("decided_by", "text"),
        Column("decided_at", "timestamptz"),
        Column("rejection", "text"),
    ],
    indexes=[Index(("tenant_id", "status", "requested_at", "refund_id"))],
)


class ApprovalStatus(StrEnum):
    """Where a refund's approval stands."""

    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


PENDING_APPROVAL = ApprovalStatus.PENDING_APPROVAL.value
APPROVED = ApprovalStatus.APPROVED.value
REJECTED = ApprovalStatus.REJECTED.value


class RefundApproval(msgspec.Struct, frozen=True, kw_only=True):
    """A refund that needed approval, and where its approval stands."""

    id: UUID
    order_id: UUID
    payment_id: UUID
    amount: int
    currency: str
    reason: str | None
    status: ApprovalStatus
    requested_by: str | None
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    rejection: str | None = None


class ApprovalCursor(msgspec.Struct, frozen=True, array_like=True):
    """Where a page ended: the last row's request time and refund id."""

    requested_at: datetime
    refund_id: UUID


class ApprovalPage(msgspec.Struct, frozen=True):
    items: list[RefundApproval]
    next_cursor: ApprovalCursor | None


class RefundApprovals(Projection):
    name = "refund_approvals"
    version = 1
    tables = (REFUND_APPROVALS_TABLE,)
    _wanted = topics(Events.RefundApprovalRequested, Events.RefundApproved, Events.RefundRejected)

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        tenant_id = event.metadata.tenant_id
        if isinstance(decoded, Events.RefundApprovalRequested):
            refund = decoded.refund
            key = {"tenant_id": tenant_id, "refund_id": refund.id}
            row = {
                "order_id": decoded.order_id,
                "payment_id": event.stream_id,
                "amount": refund.amount.amount,
                "currency": refund.amount.currency,
                "reason": refund.reason,
                "status": PENDING_APPROVAL,
                "requested_by": refund.requested_by,
                "requested_at": refund.requested_at,
            }
            return [Upsert(TABLE, key, row)]
        if isinstance(decoded, Events.RefundApproved | Events.RefundRejected):
            key = {"tenant_id": tenant_id, "refund_id": decoded.refund_id}
            decision: dict[str, Any] = {"decided_by": decoded.by, "decided_at": decoded.at}
            if isinstance(decoded, Events.RefundRejected):
                decision |= {"status": REJECTED, "rejection": decoded.reason}
            else:
                decision["status"] = APPROVED
            return [Upsert(TABLE, key, decision)]
        return []


async def list_refund_approvals(
    read_models: ReadModelStore,
    tenant_id: str,
    status: str | None,
    limit: int,
    after: ApprovalCursor | None,
) -> ApprovalPage:
    """The tenant's refunds that needed approval (of ``status`` if given), oldest first.
    Prepares the table first: a process that does not run projections may ask."""
    await read_models.prepare(RefundApprovals())
    where: dict[str, Any] = {"tenant_id": tenant_id}
    if status is not None:
        where["status"] = status
    rows = await read_models.rows(TABLE, **where)
    items = sorted((_approval(row) for row in rows), key=_position)
    if after is not None:
        items = [item for item in items if _position(item) > (after.requested_at, after.refund_id)]
    page = items[:limit]
    more = len(items) > limit
    last = page[-1] if page and more else None
    cursor = None if last is None else ApprovalCursor(last.requested_at, last.id)
    return ApprovalPage(page, cursor)


def _position(item: RefundApproval) -> tuple[datetime, UUID]:
    return item.requested_at, item.id


def _approval(row: dict[str, Any]) -> RefundApproval:
    return RefundApproval(
        id=row["refund_id"],
        order_id=row["order_id"],
        payment_id=row["payment_id"],
        amount=row["amount"],
        currency=row["currency"],
        reason=row["reason"],
        status=ApprovalStatus(row["status"]),
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        rejection=row["rejection"],
    )
