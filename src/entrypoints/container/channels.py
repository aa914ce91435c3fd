"""Each tenant's POS connections (``PUT /admin/channels/{pos}``) built into adapters, and
the ports the order pull works with (ADR 0037).

``PosResolver.pos_for(connection)`` builds a Square or Clover adapter once per connection
and keeps it until the connection or its secrets change (its ``configured_at``, a refreshed
OAuth token); a ``fake`` connection gets the tenant's own in-memory fake POS (``make run``,
tests ring sales up on it).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg
import structlog

from adapters.clover.oauth import CloverOAuth
from adapters.clover.pos import CloverPos
from adapters.memory.pos import FakePos
from adapters.memory.pos_connections import MemoryPosConnections
from adapters.memory.pos_oauth_states import MemoryOAuthStates
from adapters.postgres.pos_connections import PostgresPosConnections
from adapters.postgres.pos_oauth_states import PostgresOAuthStates
from adapters.square.oauth_port import SquareOAuth
from adapters.square.pos import SquarePos
from commerce_core.channels.connections import PosConnection, PosConnections, PosName
from commerce_core.channels.oauth import OAuthStates, PosOAuth, refreshed
from commerce_core.channels.ports import PointOfSale, PosError
from commerce_core.shared.ports.clock import Clock
from entrypoints.settings import Settings, master_key

SQUARE_PRODUCTION = "https://connect.squareup.com"
CLOVER_PRODUCTION = "https://api.clover.com"
Built = SquarePos | CloverPos
log = structlog.get_logger("channels.oauth")


def pos_connections(settings: Settings, pool: asyncpg.Pool | None) -> PosConnections:
    key = master_key(settings)
    return MemoryPosConnections(key) if pool is None else PostgresPosConnections(pool, key)


def pos_oauth_states(pool: asyncpg.Pool | None) -> OAuthStates:
    return MemoryOAuthStates() if pool is None else PostgresOAuthStates(pool)


class PosOAuthApps:
    """The platform's OAuth app at each POS, when configured (``SQUARE_OAUTH_CLIENT_ID``
    and ``_SECRET``, ``CLOVER_OAUTH_CLIENT_ID`` and ``_SECRET``); None for a POS without
    one."""

    def __init__(self, settings: Settings) -> None:
        self._apps: dict[str, SquareOAuth | CloverOAuth] = {}
        if settings.square_oauth_client_id and settings.square_oauth_client_secret:
            self._apps[str(PosName.SQUARE)] = SquareOAuth(
                client_id=settings.square_oauth_client_id,
                client_secret=settings.square_oauth_client_secret,
                base_url=settings.square_oauth_base
                or settings.square_api_base
                or SQUARE_PRODUCTION,
            )
        if settings.clover_oauth_client_id and settings.clover_oauth_client_secret:
            self._apps[str(PosName.CLOVER)] = CloverOAuth(
                client_id=settings.clover_oauth_client_id,
                client_secret=settings.clover_oauth_client_secret,
                redirect_url=settings.clover_oauth_redirect_url,
                authorize_base=settings.clover_oauth_base or "https://www.clover.com",
                api_base=settings.clover_api_base or CLOVER_PRODUCTION,
            )

    def for_pos(self, pos: str) -> PosOAuth | None:
        return self._apps.get(pos)

    async def close(self) -> None:
        for app in self._apps.values():
            await app.aclose()


class PosResolver:
    """See the module's docstring."""

    def __init__(
        self,
        clock: Clock,
        *,
        square_base: str | None = None,
        clover_base: str | None = None,
        oauth: tuple[PosConnections, PosOAuthApps] | None = None,
    ) -> None:
        self._clock = clock
        self._oauth = oauth
        self._square_base = square_base or SQUARE_PRODUCTION
        self._clover_base = clover_base or CLOVER_PRODUCTION
        self.fakes: dict[UUID, FakePos] = {}
        self._built: dict[tuple[UUID, PosName], tuple[PosConnection, Built]] = {}
        self._retired: list[Built] = []

    def fake(self, tenant_id: UUID) -> FakePos:
        """The tenant's fake POS (made on first use)."""
        if tenant_id not in self.fakes:
            self.fakes[tenant_id] = FakePos(self._clock)
        return self.fakes[tenant_id]

    async def pos_for(self, connection: PosConnection) -> PointOfSale:
        if connection.pos is PosName.FAKE:
            return self.fake(connection.tenant_id)
        connection = await self._refreshed(connection)
        key = (connection.tenant_id, connection.pos)
        built = self._built.get(key)
        if built is not None and _same(built[0], connection):
            return built[1]
        if built is not None:
            self._retired.append(built[1])
        made = self._build(connection)
        self._built[key] = (connection, made)
        return made

    async def _refreshed(self, connection: PosConnection) -> PosConnection:
        """The connection with its OAuth token refreshed first when it is due (every pull
        asks here, so the sync refreshes tokens before they expire). A failed refresh is
        logged and the old token used: the pull then fails and backs off as any other."""
        app = None if self._oauth is None else self._oauth[1].for_pos(connection.pos)
        if self._oauth is None or app is None:
            return connection
        try:
            return await refreshed(connection, app, self._oauth[0], self._clock.now())
        except PosError as failed:
            log.warning(
                "pos_token_refresh_failed",
                tenant_id=str(connection.tenant_id),
                pos=str(connection.pos),
                error=str(failed),
            )
            return connection

    def _build(self, connection: PosConnection) -> Built:
        if connection.pos is PosName.CLOVER:
            return CloverPos(
                merchant_id=connection.details.merchant_id or "",
                access_token=connection.secrets.access_token,
                auth_code=connection.secrets.signature_key,
                base_url=self._clover_base,
            )
        return SquarePos(
            access_token=connection.secrets.access_token,
            signature_key=connection.secrets.signature_key,
            base_url=self._square_base,
        )

    async def close(self) -> None:
        retired = self._retired + [made for _, made in self._built.values()]
        self._retired, self._built = [], {}
        for made in retired:
            await made.aclose()
        if self._oauth is not None:
            await self._oauth[1].close()


def _same(built: PosConnection, connection: PosConnection) -> bool:
    return (built.configured_at, built.secrets) == (connection.configured_at, connection.secrets)


def pos_resolver(
    settings: Settings, clock: Clock, connections: PosConnections, apps: PosOAuthApps
) -> PosResolver:
    return PosResolver(
        clock,
        square_base=settings.square_api_base,
        clover_base=settings.clover_api_base,
        oauth=(connections, apps),
    )
