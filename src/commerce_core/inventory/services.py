"""Inventory use cases: receive stock, read stock levels across locations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.eventstore.preloaded import preload
from commerce_core.inventory.locations import SkuLocations
from commerce_core.inventory.stock import DEFAULT_LOCATION, StockItem
from commerce_core.inventory.stock_streams import stock_streams
from commerce_core.inventory.stock_turns import STOCK_TURNS, in_turn
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import parse_sku


@dataclass(frozen=True)
class LocationLevel:
    location_id: str
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True)
class StockLevels:
    sku: str
    on_hand: int
    reserved: int
    available: int
    locations: list[LocationLevel]


async def sku_locations(repo: Repository, tenant_id: str, sku: str) -> SkuLocations:
    try:
        return await repo.get(SkuLocations.id_for(tenant_id, sku), kind=SkuLocations)
    except AggregateNotFoundError:
        return SkuLocations(tenant_id=tenant_id, sku=sku)


async def stock_items(repo: Repository, tenant_id: str, sku: str) -> list[StockItem]:
    """Every stock item of the SKU, in the order its locations first received stock."""
    return (await stock_items_of(repo, tenant_id, [sku]))[sku]


async def stock_items_of(
    repo: Repository, tenant_id: str, skus: Sequence[str]
) -> dict[str, list[StockItem]]:
    """``stock_items`` of several SKUs: their locations and their items at the default
    location in one read (ADR 0047), then the items at other locations if any."""
    repo = await preload(repo, stock_streams(tenant_id, skus))  # nothing read twice
    ids = {sku: SkuLocations.id_for(tenant_id, sku) for sku in skus}
    found = await repo.get_many(list(ids.values()), kind=SkuLocations)
    wanted = {
        sku: [StockItem.id_for(tenant_id, sku, location) for location in found[ids[sku]].locations]
        for sku in skus
        if ids[sku] in found
    }
    items = await repo.get_many([i for item_ids in wanted.values() for i in item_ids], StockItem)
    missing = [i for item_ids in wanted.values() for i in item_ids if i not in items]
    if missing:  # a location is listed only together with its first receipt
        raise AggregateNotFoundError(missing[0])
    return {sku: [items[i] for i in wanted.get(sku, [])] for sku in skus}


class ReceiveStock(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /inventory/{sku}/receipts``: ``quantity`` units of ``sku`` arrived at a location."""

    sku: str
    quantity: int
    location_id: str = DEFAULT_LOCATION


async def receive_stock(
    repo: Repository, clock: Clock, ctx: CommandContext, command: ReceiveStock
) -> StockLevels:
    """Adds units at a location (creating the stock item the first time), in the SKU's turn
    and retried on conflict: a receipt during a flash sale queues with the buyers (ADR 0046)."""
    sku, location_id = parse_sku(command.sku), command.location_id
    now = clock.now()

    async def attempt() -> None:
        STOCK_TURNS.forget_kept(ctx.tenant_id, sku)  # the buyers' copies miss this receipt
        locations = await sku_locations(repo, ctx.tenant_id, sku)
        item_id = StockItem.id_for(ctx.tenant_id, sku, location_id)
        try:
            item = await repo.get(item_id, kind=StockItem)
        except AggregateNotFoundError:
            item = StockItem.create(ctx.tenant_id, sku, now, location_id)
        item.receive(command.quantity, now)
        locations.add(location_id)
        await repo.save(
            item, locations, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key
        )

    await retry_on_conflict(in_turn(ctx.tenant_id, [sku], attempt))
    return await stock_levels(repo, ctx.tenant_id, sku, now)


async def stock_levels(repo: Repository, tenant_id: str, sku: str, at: datetime) -> StockLevels:
    """On hand, reserved and available at ``at``, in total and per location."""
    levels = [
        LocationLevel(item.location_id, item.on_hand, item.reserved(at), item.available(at))
        for item in await stock_items(repo, tenant_id, sku)
    ]
    return StockLevels(
        sku=sku,
        on_hand=sum(level.on_hand for level in levels),
        reserved=sum(level.reserved for level in levels),
        available=sum(level.available for level in levels),
        locations=levels,
    )
