"""A webhook endpoint: where a tenant's events go, which ones, and the secrets that sign them."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import msgspec

ROTATION_WINDOW = timedelta(hours=24)
"""How long the previous secret keeps signing after a rotation (two ``v1=`` signatures),
so a receiver can switch to the new secret without dropping a delivery."""


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class SigningSecrets(msgspec.Struct, frozen=True, kw_only=True):
    """The current secret, and the previous one until ``previous_until``; ``repr`` hides
    them so that no log shows a secret."""

    current: str
    previous: str | None = None
    previous_until: datetime | None = None

    def signing(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery sent at ``now``: the current one first."""
        if self.previous and self.previous_until and now < self.previous_until:
            return [self.current, self.previous]
        return [self.current]

    def rotated(self, new: str, now: datetime) -> SigningSecrets:
        return SigningSecrets(
            current=new, previous=self.current, previous_until=now + ROTATION_WINDOW
        )

    def __repr__(self) -> str:
        return "SigningSecrets(***)"

    def __str__(self) -> str:
        return repr(self)


class WebhookEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    tenant: str
    url: str
    events: list[str]
    description: str | None
    status: EndpointStatus
    notice: str | None
    """Why the endpoint was disabled (the service disabled it after failing deliveries)."""
    created_at: datetime
    updated_at: datetime
    secrets: SigningSecrets
    failing_since: datetime | None = None
    """When the oldest failed attempt since the last success was made."""
