"""Creating tenants and issuing API keys (for the CLI, `make run` and tests).

A key's secret is ``ck_live_`` + 32 random bytes (urlsafe base64); it is returned
once, here, and only its SHA-256 hash is stored.
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.tenancy.ports.tenants import (
    API_KEY_PREFIX,
    PLATFORM_SLUG,
    ApiKey,
    Grant,
    Role,
    Tenant,
    TenantExistsError,
    TenantNotFoundError,
    Tenants,
    TenantSettings,
    check_slug,
    hash_api_key,
)
from commerce_core.tenancy.rate_limits import RateLimitSettings

DEMO_SLUG = "demo"


class IssuedKey(NamedTuple):
    key: ApiKey
    secret: str


def new_secret() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


class KeyRequestError(ValueError):
    """A key that may not be made: an operator key outside the platform tenant, a grant
    on a role other than ``service``, a shop key of the platform tenant."""


def check_key_request(tenant: Tenant, role: Role, grants: frozenset[Grant]) -> None:
    if grants and role is not Role.SERVICE:
        raise KeyRequestError("grants are for service keys (the other roles need none)")
    if role is Role.OPERATOR and tenant.slug != PLATFORM_SLUG:
        raise KeyRequestError(f"operator keys belong to the tenant {PLATFORM_SLUG!r}")
    if role is not Role.OPERATOR and tenant.slug == PLATFORM_SLUG:
        raise KeyRequestError(f"the tenant {PLATFORM_SLUG!r} has operator keys only")


async def issue_key(
    tenants: Tenants,
    tenant: Tenant,
    role: Role,
    *,
    clock: Clock,
    ids: Ids,
    grants: frozenset[Grant] = frozenset(),
) -> IssuedKey:
    """Stores a new key of ``tenant`` with ``role``; the secret is in the result only.
    Raises ``KeyRequestError`` for a key ``check_key_request`` refuses."""
    check_key_request(tenant, role, grants)
    secret = new_secret()
    key = ApiKey(
        id=ids.new_id(),
        tenant_id=tenant.id,
        role=role,
        key_hash=hash_api_key(secret),
        created_at=clock.now(),
        grants=grants,
    )
    await tenants.add_key(key)
    return IssuedKey(key, secret)


async def find_tenant(tenants: Tenants, slug_or_id: str) -> Tenant:
    """The tenant of a slug or of an id (operators have either at hand); raises
    ``TenantNotFoundError``."""
    tenant = await tenants.tenant_by_slug(slug_or_id)
    if tenant is None:
        try:
            tenant_id = UUID(slug_or_id)
        except ValueError:
            raise TenantNotFoundError(slug_or_id) from None
        tenant = await tenants.get_tenant(tenant_id)
    if tenant is None:
        raise TenantNotFoundError(slug_or_id)
    return tenant


async def issue_key_by_slug(
    tenants: Tenants,
    slug: str,
    role: Role,
    *,
    clock: Clock,
    ids: Ids,
    grants: frozenset[Grant] = frozenset(),
) -> IssuedKey:
    """A new key of the tenant of ``slug`` (or of that id)."""
    tenant = await find_tenant(tenants, slug)
    return await issue_key(tenants, tenant, role, clock=clock, ids=ids, grants=grants)


async def platform_tenant(tenants: Tenants, *, clock: Clock, ids: Ids) -> Tenant:
    """The tenant of operator keys, created on first use."""
    tenant = await tenants.tenant_by_slug(PLATFORM_SLUG)
    if tenant is not None:
        return tenant
    tenant = Tenant(id=ids.new_id(), slug=PLATFORM_SLUG, created_at=clock.now())
    try:
        await tenants.add_tenant(tenant)
    except TenantExistsError:  # created concurrently: use that one
        found = await tenants.tenant_by_slug(PLATFORM_SLUG)
        assert found is not None
        return found
    return tenant


async def issue_operator_key(tenants: Tenants, *, clock: Clock, ids: Ids) -> IssuedKey:
    tenant = await platform_tenant(tenants, clock=clock, ids=ids)
    return await issue_key(tenants, tenant, Role.OPERATOR, clock=clock, ids=ids)


async def create_tenant(
    tenants: Tenants,
    slug: str,
    *,
    clock: Clock,
    ids: Ids,
    settings: TenantSettings | None = None,
) -> tuple[Tenant, IssuedKey]:
    """A new tenant and its first ``admin`` key. Raises ``TenantExistsError`` (the slug
    ``platform`` is taken by the operators' tenant)."""
    if slug == PLATFORM_SLUG:
        raise TenantExistsError(slug)
    tenant = Tenant(
        id=ids.new_id(),
        slug=check_slug(slug),
        created_at=clock.now(),
        settings=settings or TenantSettings(),
    )
    await tenants.add_tenant(tenant)
    return tenant, await issue_key(tenants, tenant, Role.ADMIN, clock=clock, ids=ids)


async def demo_admin_key(tenants: Tenants, *, clock: Clock, ids: Ids) -> tuple[Tenant, IssuedKey]:
    """Creates tenant ``demo`` if missing and issues a new admin key for it (one per call)."""
    tenant = await tenants.tenant_by_slug(DEMO_SLUG)
    if tenant is None:
        try:
            return await create_tenant(tenants, DEMO_SLUG, clock=clock, ids=ids)
        except TenantExistsError:  # created concurrently: use that one
            tenant = await tenants.tenant_by_slug(DEMO_SLUG)
            assert tenant is not None
    return tenant, await issue_key(tenants, tenant, Role.ADMIN, clock=clock, ids=ids)


async def change_rate_limits(
    tenants: Tenants, slug: str, changes: dict[str, Any]
) -> RateLimitSettings:
    """Replaces the named fields of a tenant's rate limits (``None``: back to the default).

    Raises ``TenantNotFoundError``; ``InvalidValueError`` for a limit that is not positive,
    before anything is stored. ``slug`` may be the tenant's id too.
    """
    tenant = await find_tenant(tenants, slug)
    limits = msgspec.structs.replace(tenant.settings.rate_limits, **changes)
    limits.__post_init__()  # replace() skips the checks that decoding runs
    await tenants.merge_settings(tenant.id, {"rate_limits": limits})
    return limits
