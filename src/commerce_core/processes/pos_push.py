"""Orders of other channels shown on the POS, and their status mirrored both ways (ADR 0040).

**Out** (``push_orders``, in the background sync round after the pull): the tenant's
events after the connection's push checkpoint are read; every order they touch is
reconciled with the POS:

- an order placed on another channel (web, api, channel imports) after the connection
  was first stored, planned to ship from a location the connection maps, is pushed
  **intent first**: ``PosPush`` records the decision with its idempotency key, then
  ``push_order`` is asked with that key, then the POS's order id is recorded. A process
  killed between the call and the record asks again with the same key, and the POS
  answers with the order it made the first time;
- a pushed order whose status now shows as another POS fulfilment state
  (``status_map.to_pos``) gets that state, the same way (intent, call with its key,
  outcome), once per change.

The checkpoint moves only past orders that are settled: a POS that is down stops the
round before it (the next round asks again), a POS that refuses is recorded on the push.

**In** (``apply_pos_state``, from the pull and so from webhooks): a POS order carrying
our ``reference_id`` is one we pushed, never imported as new; its fulfilment state, when
it is news (not the state we showed), moves our order through ``status_map.mirrored``
when our lifecycle allows it by a plain status change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from commerce_core.channels.connections import PosConnection
from commerce_core.channels.ports import (
    PointOfSale,
    PosFulfilmentKind,
    PosLineDraft,
    PosOrder,
    PosOrderDraft,
    PosRefusedError,
    PosUnavailableError,
)
from commerce_core.channels.pos_push import PosPush, PushState, pos_push_id
from commerce_core.channels.status_map import mirrored, to_pos
from commerce_core.eventstore import ConcurrencyError
from commerce_core.eventstore.records import START, EventMetadata
from commerce_core.ordering.order import Channel, Order, OrderStatus
from commerce_core.ordering.order.states import COMMAND_ONLY
from commerce_core.processes.pos_orders import ACTOR, ATTEMPTS, Outcome, PosImportServices
from commerce_core.shared.context import CommandContext
from commerce_core.shared.loading import find_owned
from commerce_core.shared.retry import retry_on_conflict

Orders: Any = Order  # the event classes are made by the @event decorator at run time
_ORDER_EVENT = get_topic(Orders) + "."

PAGE_SIZE = 500
MAX_PAGES = 10
"""Pages of events read in one round; the next round goes on from the checkpoint."""

CLOSED = frozenset(
    {OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.ARCHIVED, OrderStatus.PAYMENT_FAILED}
)
"""Orders closed before the sync saw them are not shown on the till."""


MANUAL = frozenset(COMMAND_ONLY) | {OrderStatus.CANCELLED}
"""What a POS change never does to our order by itself: a cancellation refunds money and
frees stock, a shipment records parcels; staff do those here (the change is recorded on
the push, so it is not news again)."""


CHANGED_MEANWHILE = frozenset({"VERSION_MISMATCH"})
"""Refusals that say the POS order changed under the update, not that it is wrong."""


class PushSummary(msgspec.Struct, kw_only=True):
    pushed: int = 0
    mirrored: int = 0
    refused: int = 0


def draft_of(order: Order, connection: PosConnection) -> PosOrderDraft | None:
    """What to create in the POS for ``order``; None when it is not the POS's to show."""
    if order.channel is Channel.POS or order.status in CLOSED:
        return None
    if order.created_at < connection.sync.push_since:
        return None  # placed before the connection: not pushed after the fact
    ours_to_pos = {ours: theirs for theirs, ours in connection.details.location_map.items()}
    planned = next((p for p in order.fulfilment_plan if p.location_id in ours_to_pos), None)
    if planned is None:
        return None
    lines = {line.sku: line for line in order.lines}
    return PosOrderDraft(
        reference_id=str(order.id),
        location_id=ours_to_pos[planned.location_id],
        lines=[
            PosLineDraft(
                sku=str(planned_line.sku),
                name=lines[planned_line.sku].name,
                quantity=planned_line.quantity,
                unit_price=lines[planned_line.sku].unit_price,
            )
            for planned_line in planned.lines
        ],
        kind=PosFulfilmentKind.PICKUP
        if order.shipping_method == "pickup"
        else PosFulfilmentKind.SHIPMENT,
        recipient=f"Order {order.number}",  # no personal data leaves for the till
    )


async def push_orders(
    services: PosImportServices, connection: PosConnection, pos: PointOfSale
) -> PushSummary:
    """One round of the push (see the module's docstring). ``PosUnavailableError``
    leaves the checkpoint before the order it failed on."""
    tenant_id = str(connection.tenant_id)
    summary = PushSummary()
    after = connection.sync.push_position or START
    for _ in range(MAX_PAGES):
        read = await services.repo.store.read_all(after, PAGE_SIZE, tenant_id=tenant_id)
        if not read:
            break
        order_ids = dict.fromkeys(e.stream_id for e in read if e.type.startswith(_ORDER_EVENT))
        for order_id in order_ids:
            await reconcile(services, connection, pos, order_id, summary)
        after = read[-1].position
        await services.connections.pushed_through(connection.tenant_id, connection.pos, after)
        if len(read) < PAGE_SIZE:
            break
    return summary


async def reconcile(
    services: PosImportServices,
    connection: PosConnection,
    pos: PointOfSale,
    order_id: UUID,
    summary: PushSummary,
) -> None:
    """Brings the POS in line with one order: pushed once, its state shown once per change."""
    repo, tenant_id = services.repo, str(connection.tenant_id)
    order = await find_owned(repo, tenant_id, order_id, Order)
    if order is None:
        return
    push = await _push_of(services, connection, order_id)
    if push is None:
        draft = draft_of(order, connection)
        if draft is None:
            return
        push = PosPush.request(tenant_id, str(connection.pos), order_id, draft, _now(services))
        try:
            await repo.save(push, metadata=_metadata(tenant_id))
        except ConcurrencyError:
            push = await _push_of(services, connection, order_id)  # decided elsewhere
            if push is None:
                return
    if push.state is PushState.REQUESTED:
        try:
            made = await pos.push_order(push.draft, idempotency_key=push.key)
        except PosRefusedError as refused:
            error = str(refused)
            await _record(services, push, lambda p: p.record_refused(error, _now(services)))
            summary.refused += 1
            return
        push = await _record(
            services, push, lambda p: p.record_pushed(made.external_id, _now(services))
        )
        summary.pushed += 1
    for _ in range(3):  # our status may move on while a mirror waits for its answer
        if not await _mirror(services, pos, push, summary):
            return
        push = await _reload(services, push)


async def _mirror(
    services: PosImportServices, pos: PointOfSale, push: PosPush, summary: PushSummary
) -> bool:
    """Shows the order's status on the POS if it is not shown yet; whether it asked."""
    if push.state is not PushState.PUSHED or push.external_id is None:
        return False
    if push.pending is None:
        order = await find_owned(services.repo, push.tenant_id, push.order_id, Order)
        state = None if order is None else to_pos(order.status, push.kind)
        if order is None or state is None or not push.wanted(state):
            return False
        push.request_mirror(order.status, state, _now(services))
        try:
            await services.repo.save(push, metadata=_metadata(push.tenant_id))
        except ConcurrencyError:
            return True  # another process decided meanwhile: look again
    intent = push.pending
    assert intent is not None
    try:
        await pos.update_fulfilment(push.external_id, intent.state, idempotency_key=intent.key)
    except PosRefusedError as refused:
        if refused.code in CHANGED_MEANWHILE:
            # the till changed the order between the POS's read and its update: asking
            # again later (same key) may well work, so the round stops here
            raise PosUnavailableError(str(refused)) from refused
        error = str(refused)
        await _record(services, push, lambda p: p.record_refused(error, _now(services)))
        summary.refused += 1
        return False
    await _record(services, push, lambda p: p.record_mirrored(intent.key, _now(services)))
    summary.mirrored += 1
    return True


async def apply_pos_state(
    services: PosImportServices, connection: PosConnection, pos_order: PosOrder
) -> Outcome | None:
    """A pulled POS order carrying a ``reference_id``. None when it is not one we pushed
    (a reference of the seller's own, another order's): the caller imports it as a till
    sale. Else its fulfilment state, when it is news, is recorded on the push and moves
    our order forward if it may; an order of ours whose POS id is not recorded yet (the
    push's answer still to be recorded) is skipped, never imported."""
    tenant_id = str(connection.tenant_id)
    try:
        order_id = UUID(pos_order.reference_id or "")
    except ValueError:
        return None

    async def attempt() -> Outcome | None:
        push = await _push_of(services, connection, order_id)
        if push is None or push.state is PushState.REFUSED:
            return None  # we never made a POS order for it
        if push.external_id is None:
            return Outcome.SKIPPED  # ours, its POS id about to be recorded
        if push.external_id != pos_order.external_id:
            return None  # only the POS order we made speaks for our order
        state = pos_order.fulfilment
        order = await find_owned(services.repo, tenant_id, order_id, Order)
        at = _now(services)
        if order is None or state is None or not push.record_seen(state, at):
            return Outcome.UNCHANGED
        target = mirrored(order.status, state, push.kind)
        if target is not None and target not in MANUAL and order.can_change_to(target):
            order.change_status(target, at, ACTOR, f"changed on the {connection.pos} POS")
        await services.repo.save(push, order, metadata=_metadata(tenant_id))
        return Outcome.UPDATED

    return await retry_on_conflict(attempt, ATTEMPTS)


async def _push_of(
    services: PosImportServices, connection: PosConnection, order_id: UUID
) -> PosPush | None:
    tenant_id = str(connection.tenant_id)
    push_id = pos_push_id(tenant_id, str(connection.pos), order_id)
    return await find_owned(services.repo, tenant_id, push_id, PosPush)


async def _reload(services: PosImportServices, push: PosPush) -> PosPush:
    found = await find_owned(services.repo, push.tenant_id, push.id, PosPush)
    assert found is not None
    return found


async def _record(
    services: PosImportServices, push: PosPush, change: Callable[[PosPush], None]
) -> PosPush:
    """Records an outcome on a fresh copy (another process may have recorded meanwhile)."""

    async def attempt() -> PosPush:
        fresh = await _reload(services, push)
        change(fresh)
        await services.repo.save(fresh, metadata=_metadata(push.tenant_id))
        return fresh

    return await retry_on_conflict(attempt, ATTEMPTS)


def _now(services: PosImportServices) -> datetime:
    return services.clock.now()


def _metadata(tenant_id: str) -> EventMetadata:
    return CommandContext(tenant_id=tenant_id, actor=ACTOR).metadata()
