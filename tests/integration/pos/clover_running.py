"""The Clover adapter wired to its docs-checked local server (contract and hostile tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from adapters.clover.pos import CloverPos
from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.pos.clover_world import CloverWorld


@asynccontextmanager
async def clover(
    world: CloverWorld | None = None,
) -> AsyncIterator[tuple[CloverPos, CloverWorld, Server]]:
    world = world or CloverWorld()
    with serve(world) as server:  # type: ignore[arg-type]
        pos = CloverPos(
            merchant_id=world.merchant_id,
            access_token=world.access_token,
            auth_code=world.auth_code,
            base_url=server.url,
        )
        try:
            yield pos, world, server
        finally:
            await pos.aclose()
        assert server.violations == [], "\n".join(server.violations)
