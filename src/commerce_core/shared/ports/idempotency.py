"""The idempotency port: one outcome per (tenant, Idempotency-Key), kept for a while."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import msgspec


class StoredResponse(msgspec.Struct, frozen=True):
    """The response to replay: status, body bytes and content type.

    ``sealed_for`` names the customer whose data key sealed ``body`` (a response
    holding their personal data): erasing the customer makes it unreadable.
    """

    status: int
    body: bytes
    content_type: str | None = None
    sealed_for: UUID | None = None


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed key. ``response`` is None while its first request is still running.

    ``token`` names the claim: only its holder may complete or release it.
    ``locked_until`` ends the claim's lease: a claim left in progress past it (its
    process died) may be taken over.
    """

    tenant_id: UUID
    key: str
    request_hash: str
    token: UUID
    created_at: datetime
    expires_at: datetime
    locked_until: datetime
    response: StoredResponse | None = None

    @property
    def in_progress(self) -> bool:
        return self.response is None


class IdempotencyStore(Protocol):
    """Claims on idempotency keys, per tenant.

    - ``claim`` atomically takes the key for the caller's ``token`` and returns None,
      when the key is free, its record expired (``expires_at <= at``), or it is still
      in progress past its lease (``locked_until <= at``). Otherwise it returns the
      existing record and changes nothing. Of several concurrent claims exactly one
      wins. A new claim expires at ``at + ttl`` and holds its lease until ``at + lease``.
    - ``get`` returns the live (unexpired at ``at``) record, or None.
    - ``complete`` stores the response of an in-progress claim held by ``token``;
      returns False (storing nothing) when the claim is no longer ``token``'s.
    - ``release`` deletes an in-progress claim held by ``token`` so the key can act
      again; returns False when it is not ``token``'s or is already completed.
    - ``purge_expired`` deletes records expired at ``at``; returns how many.
    """

    async def claim(
        self,
        tenant_id: UUID,
        key: str,
        request_hash: str,
        *,
        token: UUID,
        at: datetime,
        ttl: timedelta,
        lease: timedelta,
    ) -> IdempotencyRecord | None: ...

    async def get(self, tenant_id: UUID, key: str, *, at: datetime) -> IdempotencyRecord | None: ...

    async def complete(
        self, tenant_id: UUID, key: str, *, token: UUID, response: StoredResponse
    ) -> bool: ...

    async def release(self, tenant_id: UUID, key: str, *, token: UUID) -> bool: ...

    async def purge_expired(self, at: datetime) -> int: ...
