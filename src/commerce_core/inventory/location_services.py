"""Location use cases: declare a location (create or replace it), read one, list them."""

from __future__ import annotations

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.inventory.location_book import Location, StockLocations
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock


async def put_location(
    repo: Repository, clock: Clock, ctx: CommandContext, location: Location
) -> Location:
    """Declares the location or replaces its declaration (PUT semantics)."""
    at = clock.now()
    try:
        book = await repo.get(StockLocations.id_for(ctx.tenant_id), kind=StockLocations)
    except AggregateNotFoundError:
        book = StockLocations.start(ctx.tenant_id, at)
    book.put(location, at)
    await repo.save(book, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
    return location


async def tenant_locations(repo: Repository, tenant_id: str) -> dict[str, Location]:
    """The tenant's declared locations by id, in the order first declared; none if it
    declared none."""
    try:
        book = await repo.get(StockLocations.id_for(tenant_id), kind=StockLocations)
    except AggregateNotFoundError:
        return {}
    return dict(book.locations)


async def find_location(repo: Repository, tenant_id: str, location_id: str) -> Location | None:
    return (await tenant_locations(repo, tenant_id)).get(location_id)
