"""The Square adapter wired to its spec-checked local server (contract and hostile tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.square.pos import SquarePos
from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.pos.square_world import SquareWorld


@asynccontextmanager
async def square(
    world: SquareWorld | None = None,
) -> AsyncIterator[tuple[SquarePos, SquareWorld, Server]]:
    world = world or SquareWorld()
    with serve(world) as server:
        pos = SquarePos(
            access_token=world.access_token, signature_key=world.signature_key, base_url=server.url
        )
        try:
            yield pos, world, server
        finally:
            await pos.aclose()
        assert server.violations == [], "\n".join(server.violations)
