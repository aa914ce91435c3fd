"""API-key authentication, roles and tenant isolation.

``ApiKeyAuthMiddleware`` resolves ``Authorization: Bearer <key>`` on every path
under ``/api/v1`` except ``/api/v1/webhooks/*`` (signed by the gateway instead)
and puts the ``Principal`` in ``request.auth`` (and ``request.user``). Handlers
take it as the ``principal`` dependency. Which role may call which route is the
role matrix (``entrypoints/http/roles.py``, on the /api/v1 router); ``requires_role``
remains for routes outside it. ``ensure_tenant`` turns another tenant's resource
into a 404.

A client address whose presented keys failed ``AUTH_FAILURES_PER_MINUTE`` times
gets 429 ``rate-limited`` instead of 401, for any key, until its count drains (the
key is not even looked up: refusals must not tell a guessed key from a wrong one).
Requests without an ``Authorization`` header guess nothing and are not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Reference, SecurityRequirement, SecurityScheme
from litestar.types import ASGIApp, Guard, Receive, Scope, Send

from commerce_core.tenancy.ports.tenants import (
    API_KEY_PREFIX,
    Grant,
    Role,
    Tenants,
    hash_api_key,
)
from entrypoints.http.limits.edge import EdgeLimits
from entrypoints.http.limits.headers import send_rate_limited
from entrypoints.http.problems import problem, send_problem

API_PREFIX = "/api/v1/"
UNAUTHENTICATED_PREFIXES = ("/api/v1/webhooks/",)
_MAX_KEY_LENGTH = 128

BEARER_SCHEME: dict[str, SecurityScheme | Reference] = {
    "ApiKey": SecurityScheme(type="http", scheme="bearer", description="API key")
}
API_SECURITY: list[SecurityRequirement] = [{"ApiKey": []}]


class Principal(msgspec.Struct, frozen=True):
    """Who is calling: the tenant a key acts for, its role, the key's id and grants."""

    tenant_id: UUID
    role: Role
    key_id: UUID
    grants: frozenset[Grant] = frozenset()


def needs_auth(path: str) -> bool:
    return path.startswith(API_PREFIX) and not path.startswith(UNAUTHENTICATED_PREFIXES)


class KeyResolver:
    """Finds the principal of a key secret. ``tenants`` is the process's cached store
    (ADR 0050): a key revoked here stops working at the next request, one revoked
    elsewhere once the database's notification arrives, within ``API_KEY_CACHE_TTL``
    seconds at the latest."""

    def __init__(self, tenants: Callable[[], Tenants]) -> None:
        self._tenants = tenants

    async def resolve(self, secret: str) -> Principal | None:
        key = await self._tenants().key_by_hash(hash_api_key(secret))
        if key is None or not key.active:
            return None
        return Principal(tenant_id=key.tenant_id, role=key.role, key_id=key.id, grants=key.grants)


def bearer_token(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                return token
    return None


def client_address(scope: Scope) -> str:
    """The peer's address as the server saw it (behind a proxy: the proxy's, see ADR 0022)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


_TOO_MANY_FAILURES = "too many failed authentications from this address"
_USE_BEARER = "use Authorization: Bearer <api key>"


def unauthorized_detail(scope: Scope, token: str | None) -> str:
    """Why a request was not authenticated, and how to send a key instead."""
    if token:
        return f"the API key is unknown or revoked; {_USE_BEARER} with an active key"
    header = next((v for n, v in scope.get("headers", ()) if n == b"authorization"), None)
    if header is None:
        return f"this route needs an API key: {_USE_BEARER}"
    scheme = header.decode("latin-1").strip().partition(" ")[0]
    if scheme.lower() == "bearer":
        return f"the Authorization header has no key after Bearer; {_USE_BEARER}"
    # the scheme is echoed only when it is a plain word, never a credential
    named = f" {scheme}" if scheme.isalpha() and len(scheme) <= 20 else ""
    return f"this API takes API keys, not{named or ' this kind of'} credentials: {_USE_BEARER}"


class ApiKeyAuthMiddleware:
    """Answers 401 ``unauthorized`` unless the request carries an active key; 429
    ``rate-limited`` once its address failed too often (when ``limits`` is given)."""

    def __init__(self, app: ASGIApp, resolver: KeyResolver, limits: EdgeLimits | None = None):
        self.app = app
        self.resolver = resolver
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not needs_auth(scope["path"]):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        counted = self.limits if token else None
        if counted is not None:
            blocked = await counted.auth_blocked(client_address(scope))
            if blocked is not None:
                await send_rate_limited(scope, send, blocked, _TOO_MANY_FAILURES)
                return
        principal = None
        if token and token.startswith(API_KEY_PREFIX) and len(token) <= _MAX_KEY_LENGTH:
            principal = await self.resolver.resolve(token)
        if principal is None:
            if counted is not None:
                refused = await counted.auth_failed(client_address(scope))
                if refused is not None:
                    await send_rate_limited(scope, send, refused, _TOO_MANY_FAILURES)
                    return
            await send_problem(
                scope,
                send,
                401,
                "unauthorized",
                unauthorized_detail(scope, token),
                {"WWW-Authenticate": "Bearer"},
            )
            return
        scope["auth"] = scope["user"] = principal
        structlog.contextvars.bind_contextvars(tenant_id=str(principal.tenant_id))
        try:
            await self.app(scope, receive, send)
        finally:
            structlog.contextvars.unbind_contextvars("tenant_id")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated principal; 401 on a route that was not authenticated."""
    principal = connection.scope.get("auth")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("this route is not authenticated")
    return principal


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The ``principal`` dependency: declare ``principal: Principal`` in a handler."""
    return principal_of(request)


def requires_role(*roles: Role | str) -> Guard:
    """A guard admitting the given roles (and ``admin``, which may do anything); else 403."""
    allowed = {Role(r) for r in roles} | {Role.ADMIN}

    # async: litestar would run a plain function in its thread pool (see ``role_guard``)
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.role not in allowed:
            names = ", ".join(sorted(allowed))
            raise problem(403, "forbidden", f"this needs one of the roles: {names}")

    return guard


def ensure_tenant(resource_tenant_id: UUID | str, principal: Principal) -> None:
    """Raises 404 ``not-found`` unless the resource belongs to the principal's tenant.

    Another tenant's resource is reported as missing, so ids do not reveal which
    resources exist elsewhere.
    """
    if str(resource_tenant_id) != str(principal.tenant_id):
        raise NotFoundException("nothing with this id belongs to the API key's tenant")
