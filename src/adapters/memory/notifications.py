"""Notifications, template overrides and an outbox in memory (``make run`` without SMTP
or Twilio, and tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from commerce_core.eventstore import START, Position
from commerce_core.notifications.notification import (
    Kind,
    Notification,
    NotificationStatus,
    Outcome,
    SendFailure,
)
from commerce_core.notifications.ports import Email, ListKey
from commerce_core.notifications.templates import TemplateOverride


class MemoryNotifications:
    def __init__(self) -> None:
        self._by_id: dict[object, Notification] = {}
        self._keys: set[tuple[object, str]] = set()
        self._position = START

    async def add(self, notifications: Sequence[Notification], checkpoint: Position) -> None:
        for notification in notifications:
            key = (notification.event_id, str(notification.channel))
            if key not in self._keys:
                self._keys.add(key)
                self._by_id[notification.id] = notification
        self._position = max(self._position, checkpoint)

    async def checkpoint(self) -> Position:
        return self._position

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Notification]:
        due = sorted(
            (
                n
                for n in self._by_id.values()
                if n.status is NotificationStatus.PENDING
                and n.next_attempt_at is not None
                and n.next_attempt_at <= now
            ),
            key=lambda n: (n.next_attempt_at, n.created_at),
        )[:limit]
        for n in due:
            self._by_id[n.id] = msgspec.structs.replace(n, next_attempt_at=lease_until)
        return due

    async def record(self, notification: Notification, outcome: Outcome) -> None:
        self._by_id[notification.id] = msgspec.structs.replace(
            self._by_id[notification.id],
            status=outcome.status,
            attempts=outcome.attempts,
            next_attempt_at=outcome.next_attempt_at,
            sent_at=outcome.sent_at,
            last_error=outcome.error,
        )

    async def list(
        self, tenant: str, limit: int, after: ListKey | None = None
    ) -> list[Notification]:
        mine = [
            n
            for n in self._by_id.values()
            if n.tenant == tenant and (after is None or (n.created_at, n.id) < after.key())
        ]
        return sorted(mine, key=lambda n: (n.created_at, n.id), reverse=True)[:limit]


class MemoryTemplates:
    def __init__(self) -> None:
        self._overrides: dict[tuple[str, Kind], TemplateOverride] = {}

    async def get(self, tenant: str, kind: Kind) -> TemplateOverride | None:
        return self._overrides.get((tenant, kind))

    async def put(self, tenant: str, kind: Kind, override: TemplateOverride) -> None:
        self._overrides[(tenant, kind)] = override


class MemoryOutbox:
    """Keeps what would have been sent: the email and SMS sender of ``make run``."""

    def __init__(self) -> None:
        self.emails: list[Email] = []
        self.texts: list[tuple[str, str]] = []

    async def send_email(self, email: Email) -> SendFailure | None:
        self.emails.append(email)
        return None

    async def send_text(self, to: str, body: str) -> SendFailure | None:
        self.texts.append((to, body))
        return None


class OutboxEmail:
    def __init__(self, outbox: MemoryOutbox) -> None:
        self._outbox = outbox

    async def send(self, email: Email) -> SendFailure | None:
        return await self._outbox.send_email(email)


class OutboxSms:
    def __init__(self, outbox: MemoryOutbox) -> None:
        self._outbox = outbox

    async def send(self, to: str, body: str) -> SendFailure | None:
        return await self._outbox.send_text(to, body)
