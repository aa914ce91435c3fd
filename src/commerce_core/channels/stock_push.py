"""Our stock is the source (ADR 0037): each mapped item's available units at each mapped
location are pushed to the POS as absolute counts, in one batch, when they changed since
the last push. The background pull's round is the debounce: many sales between two rounds
make one push. The batch's idempotency key is its content's digest, so a push repeated
after a lost answer sets the same counts once."""

from __future__ import annotations

import hashlib

from commerce_core.channels.connections import PosConnection, PosConnections
from commerce_core.channels.ports import PointOfSale, PosCount
from commerce_core.eventstore import Repository
from commerce_core.inventory.services import stock_levels
from commerce_core.shared.ports.clock import Clock


async def counts_of(repo: Repository, clock: Clock, connection: PosConnection) -> list[PosCount]:
    """Available units of every mapped item at every mapped location, now."""
    at = clock.now()
    tenant_id = str(connection.tenant_id)
    counts = []
    for item_id, sku in sorted(connection.details.item_map.items()):
        levels = await stock_levels(repo, tenant_id, sku, at)
        by_location = {level.location_id: level.available for level in levels.locations}
        for pos_location, ours in sorted(connection.details.location_map.items()):
            available = max(by_location.get(ours, 0), 0)
            counts.append(
                PosCount(
                    item_id=item_id, location_id=pos_location, quantity=available, counted_at=at
                )
            )
    return counts


def digest(counts: list[PosCount]) -> str:
    text = "\n".join(f"{c.item_id}\x00{c.location_id}\x00{c.quantity}" for c in counts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


async def push_changed_counts(
    repo: Repository,
    clock: Clock,
    connections: PosConnections,
    connection: PosConnection,
    pos: PointOfSale,
) -> bool:
    """Pushes the counts if they changed since the last push; whether it pushed.
    ``PosError`` when the POS fails (nothing is recorded: the next round tries again)."""
    counts = await counts_of(repo, clock, connection)
    if not counts:
        return False
    pushed = digest(counts)
    if pushed == connection.sync.counts_digest:
        return False
    await pos.push_counts(counts, idempotency_key=f"counts-{pushed}")
    await connections.counts_pushed(connection.tenant_id, connection.pos, pushed)
    return True
