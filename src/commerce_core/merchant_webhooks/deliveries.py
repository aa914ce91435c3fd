"""A delivery: one event for one endpoint, recorded before it is sent, sent until the
endpoint answers 2xx or three days have passed, with every attempt kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from commerce_core.merchant_webhooks.schedule import next_attempt_at

MAX_RESPONSE_CHARS = 1024
"""How much of a receiver's answer an attempt keeps (enough to debug, never a page)."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None = None
    response_body: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant: str
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    body: bytes
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[Attempt] = msgspec.field(default_factory=list)


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What an attempt changes: the delivery's status and when it is tried next."""

    attempt: Attempt
    status: DeliveryStatus
    next_attempt_at: datetime | None


def outcome_of(delivery: Delivery, attempt: Attempt, jitter: Callable[[], float]) -> Outcome:
    if attempt.succeeded:
        return Outcome(attempt=attempt, status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
    first = delivery.attempts[0].at if delivery.attempts else attempt.at
    retry_at = next_attempt_at(first, attempt.number, attempt.at, jitter)
    status = DeliveryStatus.FAILED if retry_at is None else DeliveryStatus.PENDING
    return Outcome(attempt=attempt, status=status, next_attempt_at=retry_at)


def truncated(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_RESPONSE_CHARS:
        return text
    return text[:MAX_RESPONSE_CHARS] + "…"
