"""Zone use cases: put a zone (create or replace it), read one, list them."""

from __future__ import annotations

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.fulfilment.zone_book import ShippingZones
from commerce_core.fulfilment.zones import Zone
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock


async def put_zone(repo: Repository, clock: Clock, ctx: CommandContext, zone: Zone) -> Zone:
    """Creates the zone or replaces it with these values (PUT semantics); refused,
    recording nothing, when it would tie with another zone for some address."""
    at = clock.now()
    try:
        book = await repo.get(ShippingZones.id_for(ctx.tenant_id), kind=ShippingZones)
    except AggregateNotFoundError:
        book = ShippingZones.start(ctx.tenant_id, at)
    book.put(zone, at)
    await repo.save(book, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
    return zone


async def tenant_zones(repo: Repository, tenant_id: str) -> list[Zone]:
    """The tenant's zones, in the order they were first put; none when it defined none."""
    try:
        book = await repo.get(ShippingZones.id_for(tenant_id), kind=ShippingZones)
    except AggregateNotFoundError:
        return []
    return book.listed()


async def find_zone(repo: Repository, tenant_id: str, code: str) -> Zone | None:
    return next((z for z in await tenant_zones(repo, tenant_id) if z.code == code), None)
