"""Each tenant's POS connections (``PUT /admin/channels/{pos}``) built into adapters, and
the ports the order pull works with (ADR 0037).

``PosResolver.pos_for(connection)`` builds a Square adapter once per connection and keeps
it until the connection changes (its ``configured_at``); a ``fake`` connection gets the
tenant's own in-memory fake POS (``make run``, tests ring sales up on it).
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from adapters.memory.pos import FakePos
from adapters.memory.pos_connections import MemoryPosConnections
from adapters.postgres.pos_connections import PostgresPosConnections
from adapters.square.pos import SquarePos
from commerce_core.channels.connections import PosConnection, PosConnections, PosName
from commerce_core.channels.ports import PointOfSale
from commerce_core.shared.ports.clock import Clock
from entrypoints.settings import Settings, master_key

SQUARE_PRODUCTION = "https://connect.squareup.com"


def pos_connections(settings: Settings, pool: asyncpg.Pool | None) -> PosConnections:
    key = master_key(settings)
    return MemoryPosConnections(key) if pool is None else PostgresPosConnections(pool, key)


class PosResolver:
    """See the module's docstring."""

    def __init__(self, clock: Clock, *, square_base: str | None = None) -> None:
        self._clock = clock
        self._square_base = square_base or SQUARE_PRODUCTION
        self.fakes: dict[UUID, FakePos] = {}
        self._square: dict[UUID, tuple[PosConnection, SquarePos]] = {}
        self._retired: list[SquarePos] = []

    def fake(self, tenant_id: UUID) -> FakePos:
        """The tenant's fake POS (made on first use)."""
        if tenant_id not in self.fakes:
            self.fakes[tenant_id] = FakePos(self._clock)
        return self.fakes[tenant_id]

    async def pos_for(self, connection: PosConnection) -> PointOfSale:
        if connection.pos is PosName.FAKE:
            return self.fake(connection.tenant_id)
        built = self._square.get(connection.tenant_id)
        if built is not None and built[0].configured_at == connection.configured_at:
            return built[1]
        if built is not None:
            self._retired.append(built[1])
        square = SquarePos(
            access_token=connection.secrets.access_token,
            signature_key=connection.secrets.signature_key,
            base_url=self._square_base,
        )
        self._square[connection.tenant_id] = (connection, square)
        return square

    async def close(self) -> None:
        retired = self._retired + [square for _, square in self._square.values()]
        self._retired, self._square = [], {}
        for square in retired:
            await square.aclose()


def pos_resolver(settings: Settings, clock: Clock) -> PosResolver:
    return PosResolver(clock, square_base=settings.square_api_base)
