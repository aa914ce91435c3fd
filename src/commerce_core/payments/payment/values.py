"""A payment's refunds and dispute, as the payment keeps them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commerce_core.payments.payment.states import DisputeStatus, RefundStatus
from commerce_core.shared.money import Money


class Refund(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    amount: Money
    reason: str | None
    status: RefundStatus
    requested_at: datetime
    gateway_refund_id: str | None = None
    failure_code: str | None = None
    settled_at: datetime | None = None


class Dispute(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    amount: Money
    reason: str
    status: DisputeStatus
    opened_at: datetime
    closed_at: datetime | None = None
