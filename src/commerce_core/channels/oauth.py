"""Connecting a POS account by OAuth (ADR 0043): ``POST /admin/channels/{pos}/oauth`` gives
the URL to send the seller to and a ``state``; the seller's grant comes back to ``GET
/channels/{pos}/oauth/callback?code=&state=`` (called with the tenant's admin key), which
exchanges the code for tokens stored sealed on the connection; the sync refreshes them
before they expire (``refreshed``).

The state is random, stored server-side only as its SHA-256 digest, bound to the tenant
and POS that asked for it, taken once (whoever presents it, it is gone) and refused after
``STATE_TTL``. A callback that fails (denied, unknown, used, expired, another tenant's or
POS's state, a refused code) stores nothing on the connection.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.channels.connections import (
    PosConnection,
    PosConnections,
    PosNotConnectedError,
    PosSecrets,
)
from commerce_core.shared.errors import DomainError
from commerce_core.shared.ports.clock import Clock

STATE_TTL = timedelta(minutes=10)


class PosTokens(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    refresh_token: str
    expires_at: datetime
    merchant_id: str | None = None


class PosOAuth(Protocol):
    """One POS's OAuth for the platform's app there.

    - ``authorize_url``: where to send the seller; ``state`` comes back with the code.
    - ``exchange``: the code for tokens (``PosRefusedError`` for a bad code).
    - ``refresh``: new tokens for a refresh token.
    - ``refresh_margin``: how long before expiry a token is refreshed.
    """

    @property
    def refresh_margin(self) -> timedelta: ...

    def authorize_url(self, state: str) -> str: ...

    async def exchange(self, code: str) -> PosTokens: ...

    async def refresh(self, refresh_token: str) -> PosTokens: ...


class OAuthState(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: UUID
    pos: str
    expires_at: datetime


class OAuthStates(Protocol):
    """Issued states by digest. ``take`` removes and returns one (None when unknown or
    already taken): of two callbacks with one state, one gets it."""

    async def issue(self, digest: str, state: OAuthState, at: datetime) -> None: ...

    async def take(self, digest: str) -> OAuthState | None: ...


class OAuthServices(msgspec.Struct, frozen=True, kw_only=True):
    connections: PosConnections
    states: OAuthStates
    oauth: PosOAuth
    clock: Clock


class OAuthCallback(msgspec.Struct, frozen=True, kw_only=True):
    """What the POS sent the seller back with: a ``code``, or an ``error`` (denied)."""

    state: str
    code: str | None = None
    error: str | None = None


class OAuthStateError(DomainError):
    """The state is unknown, used, expired, or not this tenant's or this POS's."""


class OAuthDeniedError(DomainError):
    """The seller (or the POS) refused the grant: the callback carried an error."""


def digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


async def start_oauth(services: OAuthServices, tenant_id: UUID, pos: str, state: str) -> str:
    """Records ``state`` for this tenant and POS; the authorize URL. The connection must
    exist (its location map says what to pull; OAuth only brings the token)."""
    if await services.connections.get(tenant_id, pos) is None:
        raise PosNotConnectedError(pos)
    now = services.clock.now()
    issued = OAuthState(tenant_id=tenant_id, pos=pos, expires_at=now + STATE_TTL)
    await services.states.issue(digest(state), issued, now)
    return services.oauth.authorize_url(state)


async def finish_oauth(
    services: OAuthServices, tenant_id: UUID, pos: str, callback: OAuthCallback
) -> PosConnection:
    """Takes the state (once), then exchanges the code and stores the tokens sealed on the
    connection. Nothing is stored unless every check holds and the POS gave tokens."""
    issued = await services.states.take(digest(callback.state))
    if issued is None:
        raise OAuthStateError("this OAuth state is unknown or was already used")
    if issued.tenant_id != tenant_id:
        raise OAuthStateError("this OAuth state was issued to another tenant")
    if issued.pos != pos:
        raise OAuthStateError(f"this OAuth state was issued for {issued.pos}, not {pos}")
    if issued.expires_at <= services.clock.now():
        raise OAuthStateError("this OAuth state has expired: start again")
    if callback.error is not None:
        raise OAuthDeniedError(f"the grant was refused: {callback.error}")
    if not callback.code:
        raise OAuthDeniedError("the callback carries no code")
    connection = await services.connections.get(tenant_id, pos)
    if connection is None:
        raise PosNotConnectedError(pos)
    tokens = await services.oauth.exchange(callback.code)
    updated = msgspec.structs.replace(
        connection,
        secrets=with_tokens(connection.secrets, tokens),
        details=msgspec.structs.replace(
            connection.details,
            merchant_id=connection.details.merchant_id or tokens.merchant_id,
        ),
        configured_at=services.clock.now(),
    )
    await services.connections.put(updated)
    return updated


def with_tokens(secrets: PosSecrets, tokens: PosTokens) -> PosSecrets:
    return msgspec.structs.replace(
        secrets,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_at=tokens.expires_at,
    )


async def refreshed(
    connection: PosConnection, oauth: PosOAuth, connections: PosConnections, at: datetime
) -> PosConnection:
    """The connection with its OAuth token refreshed and stored when it is due (within
    ``refresh_margin`` of expiry); as it was otherwise (a token given by hand, not due)."""
    secrets = connection.secrets
    if not secrets.refresh_token or secrets.expires_at is None:
        return connection
    if secrets.expires_at - at > oauth.refresh_margin:
        return connection
    fresh = with_tokens(secrets, await oauth.refresh(secrets.refresh_token))
    await connections.tokens_refreshed(connection.tenant_id, connection.pos, fresh)
    return msgspec.structs.replace(connection, secrets=fresh)
