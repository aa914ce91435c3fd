"""The tenants port: tenants, their settings, and the API keys that act for them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

import msgspec

from commerce_core.customers.segments import SegmentRules
from commerce_core.payments.fees import FeeOverride
from commerce_core.shared.errors import InvalidValueError
from commerce_core.tenancy.rate_limits import RateLimitSettings

API_KEY_PREFIX = "ck_live_"

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class Role(StrEnum):
    """What a key may do: ``operator`` the platform's own routes (every tenant), ``admin``
    everything of its tenant, ``staff`` daily operations, ``service`` machines. The routes
    each role may call are one table: ``entrypoints/http/roles.py`` (ADR 0019)."""

    OPERATOR = "operator"
    ADMIN = "admin"
    STAFF = "staff"
    SERVICE = "service"


class Grant(StrEnum):
    """What a ``service`` key may do beyond its role, given when the key is made."""

    REFUNDS = "refunds"


PLATFORM_SLUG = "platform"
"""The tenant operator keys belong to: it holds no shop of its own (ADR 0019)."""


class FeeTier(StrEnum):
    STARTER = "starter"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"


class TenantSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Per-tenant business settings, stored as one JSON document (unknown fields are ignored).

    ``refund_approval_threshold`` is in minor units of the refunded order's currency,
    whichever it is: a refund above it needs an ``admin`` key. ``reservation_minutes``:
    how long ``POST /orders`` holds stock unpaid. ``default_currency``: an order's
    currency when the order names none; ``accepted_currencies``: the only currencies
    orders may be placed in (empty: any). ``fee_override`` holds negotiated platform fee
    terms that replace the tier's (see ``commerce_core.payments.fees``).
    ``rate_limits`` overrides the service's request limits for the tenant's keys and
    can limit checkouts per customer (see ``commerce_core.tenancy.rate_limits``).
    Admins change the fields of ``ADMIN_FIELDS``, each change an event (ADR 0024);
    the fee terms and rate limits are the operators'.
    """

    fee_tier: FeeTier = FeeTier.STARTER
    fee_override: FeeOverride | None = None
    refund_approval_threshold: int = 100_000
    auto_cancel_unpaid_hours: int = 24
    reservation_minutes: int = 30
    default_currency: str = "USD"
    accepted_currencies: tuple[str, ...] = ()
    segment_rules: SegmentRules = msgspec.field(default_factory=SegmentRules)
    rate_limits: RateLimitSettings = msgspec.field(default_factory=RateLimitSettings)

    def __post_init__(self) -> None:
        if self.refund_approval_threshold < 0:
            raise InvalidValueError("refund_approval_threshold must not be negative")
        if self.auto_cancel_unpaid_hours <= 0:
            raise InvalidValueError("auto_cancel_unpaid_hours must be positive")


ADMIN_FIELDS = (
    "reservation_minutes",
    "auto_cancel_unpaid_hours",
    "refund_approval_threshold",
    "default_currency",
    "accepted_currencies",
    "segment_rules",
)
"""The settings a tenant's admins change (``PATCH /admin/settings``), in display order."""


class Tenant(msgspec.Struct, frozen=True, kw_only=True):
    """``settings_version``: the version of the tenant's settings stream the admin
    fields of ``settings`` were last written from (0: never changed through it)."""

    id: UUID
    slug: str
    created_at: datetime
    settings: TenantSettings = TenantSettings()
    settings_version: int = 0


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A stored key: only the SHA-256 hash of the secret is kept (see ADR 0005)."""

    id: UUID
    tenant_id: UUID
    role: Role
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    grants: frozenset[Grant] = frozenset()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_api_key(secret: str) -> str:
    """The hex SHA-256 of a key's secret: what is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_slug(slug: str) -> str:
    """A slug is 1-63 lower-case letters, digits and inner hyphens (DNS-label-like)."""
    if not _SLUG.fullmatch(slug):
        raise InvalidValueError(f"invalid tenant slug {slug!r}: use a-z, 0-9 and inner hyphens")
    return slug


class TenantsError(Exception):
    """Base of the errors a tenants store raises."""


class TenantExistsError(TenantsError):
    """A tenant with this slug (or id) exists already."""


class TenantNotFoundError(TenantsError, LookupError):
    """No tenant has this id."""


class Tenants(Protocol):
    """Tenants and their API keys.

    - ``add_tenant`` stores a new tenant; raises ``TenantExistsError`` when its slug or
      id is taken.
    - ``get_tenant`` / ``tenant_by_slug`` return the tenant or None.
    - ``update_settings`` replaces a tenant's settings; raises ``TenantNotFoundError``.
    - ``merge_settings`` sets the named top-level fields of a tenant's settings in one
      statement, other fields and ``settings_version`` staying as they are: the
      operator's own fields (fee terms, rate limits) change without overwriting an
      admin's concurrent change of the others. Raises ``TenantNotFoundError``.
    - ``write_settings`` sets the named top-level fields of a tenant's settings (other
      fields stay) and its ``settings_version`` to ``version``, unless that is already
      ``version`` or more: a late or repeated write changes nothing. Returns whether it
      wrote; raises ``TenantNotFoundError``.
    - ``add_key`` stores a key (its hash); raises ``TenantNotFoundError`` when the
      tenant does not exist.
    - ``key_by_hash`` returns the key with this hash, revoked or not, or None.
    - ``keys_of`` lists a tenant's keys, oldest first.
    - ``revoke_key`` marks a key revoked at ``at``; returns False when there is no such
      key or it was revoked already (the first revocation time stays).
    """

    async def add_tenant(self, tenant: Tenant) -> None: ...

    async def get_tenant(self, tenant_id: UUID) -> Tenant | None: ...

    async def tenant_by_slug(self, slug: str) -> Tenant | None: ...

    async def all_tenants(self) -> list[Tenant]: ...

    async def update_settings(self, tenant_id: UUID, settings: TenantSettings) -> None: ...

    async def merge_settings(self, tenant_id: UUID, fields: Mapping[str, Any]) -> None: ...

    async def write_settings(
        self, tenant_id: UUID, fields: Mapping[str, Any], version: int
    ) -> bool: ...

    async def add_key(self, key: ApiKey) -> None: ...

    async def key_by_hash(self, key_hash: str) -> ApiKey | None: ...

    async def keys_of(self, tenant_id: UUID) -> list[ApiKey]: ...

    async def revoke_key(self, key_id: UUID, at: datetime) -> bool: ...
