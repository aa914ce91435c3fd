"""The pull of one POS connection (ADR 0037): orders changed since its cursor, batch by
batch, each imported by ``import_pos_order``; the cursor is stored only after its batch
is applied, so a crash pulls that batch again (imports are idempotent).

A failing POS (``PosError``) records the failure on the connection: the next pull waits
(``backoff``, doubling) and after ``MAX_FAILURES`` in a row the connection is
dead-lettered until it is stored again or a pull is forced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

import msgspec

from commerce_core.channels.connections import (
    PosConnection,
    PosNotConnectedError,
    backoff,
)
from commerce_core.channels.ports import PointOfSale, PosError, PosOrder, PosUnavailableError
from commerce_core.channels.stock_push import push_changed_counts
from commerce_core.payments.ports.webhooks import StoredWebhook, WebhookFailedError
from commerce_core.payments.webhooks.processing import ProcessedWebhook
from commerce_core.processes.pos_orders import Outcome, PosImportServices, import_pos_order
from commerce_core.processes.pos_push import apply_pos_state, push_orders

MAX_PAGES = 20
"""Pages pulled in one go; the next pull goes on from the stored cursor."""
PAGE_SIZE = 100


class SyncSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What one pull did, by outcome, and the cursor it stored."""

    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    oversold: int = 0
    skipped: int = 0
    cursor: str | None = None


PosFor = Callable[[PosConnection], Awaitable[PointOfSale]]


async def pull_connection(
    services: PosImportServices, connection: PosConnection, pos: PointOfSale
) -> SyncSummary:
    """Pulls what changed; ``PosError`` after recording the failure on the connection."""
    tenant_id, name = connection.tenant_id, str(connection.pos)
    counts = dict.fromkeys(Outcome, 0)
    cursor = connection.sync.cursor
    locations = sorted(connection.details.location_map)
    try:
        for _ in range(MAX_PAGES):
            page = await pos.pull_orders(location_ids=locations, cursor=cursor, limit=PAGE_SIZE)
            for pos_order in page.orders:
                counts[await _apply(services, connection, pos_order)] += 1
            cursor = page.cursor
            await services.connections.applied(tenant_id, name, cursor, services.clock.now())
            if not page.more:
                break
    except PosError as failed:
        await _failed(services, connection, failed)
        raise
    return SyncSummary(
        imported=counts[Outcome.IMPORTED],
        updated=counts[Outcome.UPDATED],
        unchanged=counts[Outcome.UNCHANGED],
        oversold=counts[Outcome.OVERSOLD],
        skipped=counts[Outcome.SKIPPED],
        cursor=cursor,
    )


async def _apply(
    services: PosImportServices, connection: PosConnection, pos_order: PosOrder
) -> Outcome:
    """An order we pushed is never imported as new: its state may come back
    (``apply_pos_state``); any other is a till sale (a reference of the seller's own
    does not make it ours)."""
    if pos_order.reference_id is not None:
        outcome = await apply_pos_state(services, connection, pos_order)
        if outcome is not None:
            return outcome
        pos_order = msgspec.structs.replace(pos_order, reference_id=None)
    return await import_pos_order(services, connection, pos_order)


async def _failed(services: PosImportServices, connection: PosConnection, failed: PosError) -> None:
    at = services.clock.now()
    wait = backoff(connection.sync.failures + 1)
    if isinstance(failed, PosUnavailableError) and failed.retry_after_seconds:
        wait = max(wait, timedelta(seconds=failed.retry_after_seconds))
    error = str(failed) or type(failed).__name__
    await services.connections.failed(connection.tenant_id, connection.pos, error, at, at + wait)


async def sync_pos(
    services: PosImportServices, pos_for: PosFor, tenant_id: UUID, pos: str
) -> SyncSummary:
    """``POST /admin/channels/{pos}/sync``: pulls now, whatever the backoff says."""
    connection = await services.connections.get(tenant_id, pos)
    if connection is None or not connection.enabled:
        raise PosNotConnectedError(pos)
    return await pull_connection(services, connection, await pos_for(connection))


async def sync_due(services: PosImportServices, pos_for: PosFor) -> int:
    """One round of the background sync: every enabled connection that is due is pulled,
    then its stock counts are pushed if they changed (``stock_push``: the round is the
    debounce), then orders of other channels are pushed and our status changes mirrored
    (``pos_push``); a failing one does not stop the others. Returns how many synced
    without error."""
    pulled = 0
    for tenant_id, name in await services.connections.enabled():
        connection = await services.connections.get(tenant_id, name)
        if connection is None or not connection.due(services.clock.now()):
            continue
        pos = await pos_for(connection)
        try:
            await pull_connection(services, connection, pos)
        except PosError:
            continue  # recorded on the connection; it backs off
        try:
            repo, clock, connections = services.repo, services.clock, services.connections
            await push_changed_counts(repo, clock, connections, connection, pos)
            await push_orders(services, connection, pos)
        except PosError as failed:
            await _failed(services, connection, failed)
            continue
        pulled += 1
    return pulled


POS_WEBHOOK_PREFIX = "pos:"
"""The webhook inbox's ``gateway`` of POS deliveries: ``pos:square``."""


async def process_pos_webhook(
    services: PosImportServices, pos_for: PosFor, webhook: StoredWebhook
) -> ProcessedWebhook:
    """A stored POS delivery (verified when received): the connection it came for is
    pulled now, which applies the order it names (and anything else changed since the
    cursor). A POS failure is ``WebhookFailedError``: the inbox worker retries it."""
    owner = webhook.tenant_id
    name = webhook.gateway.removeprefix(POS_WEBHOOK_PREFIX)
    connection = None if owner is None else await services.connections.get(UUID(owner), name)
    if connection is None or not connection.enabled:
        return ProcessedWebhook(f"ignored: {name} is not connected", owner)
    try:
        summary = await pull_connection(services, connection, await pos_for(connection))
    except PosError as failed:
        raise WebhookFailedError(f"the {name} pull failed: {failed}", owner) from failed
    return ProcessedWebhook(
        f"pulled: {summary.imported} imported, {summary.updated} updated,"
        f" {summary.oversold} oversold",
        owner,
    )
