"""A notification: one message about one event on one channel, recorded before it is
sent, then sent, retried or given up, with its status kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import msgspec


class Kind(StrEnum):
    """What a notification tells the customer; also the name of its template."""

    ORDER_CONFIRMATION = "order_confirmation"
    PAYMENT_RECEIPT = "payment_receipt"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    REFUND_ISSUED = "refund_issued"
    ORDER_CANCELLED = "order_cancelled"
    PAYMENT_FAILED = "payment_failed"


SMS_KINDS: frozenset[Kind] = frozenset({Kind.SHIPPED, Kind.DELIVERED})
"""Only these also go by SMS (a text is for what the customer waits for at the door)."""


class NotificationChannel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Never sent: the customer was erased or withdrew consent before it went out."""


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    """``context`` holds the order facts the template shows (number, amounts, links),
    never the address: that is read from the customer when it is sent, so an erased
    customer's address is unreadable by then. ``recipient`` is the masked address."""

    id: UUID
    tenant: str
    event_id: UUID
    kind: Kind
    channel: NotificationChannel
    customer_id: UUID
    order_id: UUID
    recipient: str
    context: dict[str, str]
    status: NotificationStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None = None
    last_error: str | None = None


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one attempt changes."""

    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime | None
    sent_at: datetime | None = None
    error: str | None = None


class SendFailure(msgspec.Struct, frozen=True):
    """Why a send failed. ``permanent`` when sending again cannot help: the provider
    refused this recipient or this message for good (an SMTP 5xx to RCPT or DATA, a
    Twilio 4xx such as 21211 "not a valid number"); otherwise it is retried with backoff."""

    error: str
    permanent: bool = False


MAX_ATTEMPTS = 8
FIRST_DELAY = timedelta(seconds=30)
LONGEST_DELAY = timedelta(hours=2)


def backoff(attempts: int, jitter: float) -> timedelta:
    """The wait after the ``attempts``-th failure: doubling from ``FIRST_DELAY`` up to
    ``LONGEST_DELAY``, scaled by ``jitter`` in [0.5, 1.0]."""
    jitter = min(max(jitter, 0.5), 1.0)
    delay = min(FIRST_DELAY * (1 << min(max(attempts - 1, 0), 20)), LONGEST_DELAY)
    return delay * jitter


def after_failure(
    notification: Notification, at: datetime, failure: SendFailure, jitter: float
) -> Outcome:
    """``failed`` for a permanent refusal or after ``MAX_ATTEMPTS``, else retried later."""
    attempts = notification.attempts + 1
    if failure.permanent or attempts >= MAX_ATTEMPTS:
        return Outcome(
            status=NotificationStatus.FAILED,
            attempts=attempts,
            next_attempt_at=None,
            error=failure.error,
        )
    return Outcome(
        status=NotificationStatus.PENDING,
        attempts=attempts,
        next_attempt_at=at + backoff(attempts, jitter),
        error=failure.error,
    )


def mask_email(address: str) -> str:
    """``j***@example.com``: enough for staff to tell recipients apart, no more."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """``+44*******89``."""
    return number[:3] + "*" * max(len(number) - 5, 0) + number[-2:]
