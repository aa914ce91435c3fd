"""The ports of notifications: where notifications and template overrides are kept, how
a customer is reached, and how an email or a text message is sent."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.eventstore import Position
from commerce_core.notifications.notification import Kind, Notification, Outcome, SendFailure
from commerce_core.notifications.templates import TemplateOverride


class Notifications(Protocol):
    """Notifications and the pipeline's checkpoint in the event log.

    ``add`` keeps one notification per (event, channel): adding it again is a no-op, so
    reading an event twice still sends it once. ``claim_due`` hands each due
    notification to one caller until ``lease_until`` (several workers may run)."""

    async def add(self, notifications: Sequence[Notification], checkpoint: Position) -> None:
        """Adds the new notifications and moves the checkpoint, together."""
        ...

    async def checkpoint(self) -> Position: ...

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Notification]: ...

    async def record(self, notification: Notification, outcome: Outcome) -> None: ...

    async def list(
        self, tenant: str, limit: int, after: ListKey | None = None
    ) -> list[Notification]:
        """Newest first (by ``created_at``, then ``id``), from just after ``after``."""
        ...


class ListKey(msgspec.Struct, frozen=True):
    """Where a page of notifications ended: its last one's ``created_at`` and ``id``."""

    created_at: datetime
    id: UUID

    @classmethod
    def of(cls, notification: Notification) -> ListKey:
        return cls(notification.created_at, notification.id)

    def key(self) -> tuple[datetime, UUID]:
        return (self.created_at, self.id)


class Templates(Protocol):
    """Tenants' template overrides; every read is by tenant."""

    async def get(self, tenant: str, kind: Kind) -> TemplateOverride | None: ...

    async def put(self, tenant: str, kind: Kind, override: TemplateOverride) -> None: ...


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    """How to reach a customer now, and what they agreed to."""

    name: str | None
    email: str | None
    phone: str | None
    email_consent: bool
    sms_consent: bool


CustomerKey = tuple[str, UUID]
"""A customer as a notification names them: (tenant, customer id)."""


class Contacts(Protocol):
    async def of(self, customers: Collection[CustomerKey]) -> dict[CustomerKey, Contact]:
        """How to reach each of ``customers``, read together; an erased or unknown
        customer (or one of another tenant) is left out: they are never contacted."""
        ...


class Email(msgspec.Struct, frozen=True, kw_only=True):
    to: str
    subject: str
    text: str
    html: str
    message_id: str
    """The same on every attempt, so a receiver can tell a resend from a new message."""


class EmailSender(Protocol):
    async def send(self, email: Email) -> SendFailure | None:
        """Sends the email; returns why it failed, or ``None``. Never raises for the
        server's refusals: they are the result."""
        ...


class SmsSender(Protocol):
    async def send(self, to: str, body: str) -> SendFailure | None:
        """Sends the text; returns why it failed, or ``None``."""
        ...
