"""Quarantine: one tenant's event that a projection cannot apply stops only that tenant.

The projection goes on for every other tenant. The failing event and every
later event of the same tenant that the projection wants are held, in order,
with the checkpoint moving past them, so the tenant's rows never see an event
out of order (ADR 0017). ``retry`` applies the held events in order once the
handler is fixed; ``skip`` drops the failing one and applies the rest. Both
stop at the first event that still fails, which stays quarantined with its new
error. This relies on a projection's rows being partitioned by tenant: one
tenant's events never change another tenant's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from commerce_core.eventstore import EventMapper, EventStore, RecordedEvent
from commerce_core.projections.changes import Change
from commerce_core.projections.checks import InvalidChangeError, check_change
from commerce_core.projections.ports.read_models import (
    QuarantineChangedError,
    QuarantinedEvent,
    QuarantineStore,
)
from commerce_core.projections.projection import Projection

MAX_ERROR_LENGTH = 2000


def tenant_of(event: RecordedEvent) -> str:
    return event.metadata.tenant_id


def error_text(error: BaseException) -> str:
    """What the operator and the tenant read: the error's type and message, NUL-free."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\\0")
    return text[:MAX_ERROR_LENGTH]


def quarantined(
    projection: Projection, event: RecordedEvent, *, error: str, failed: bool
) -> QuarantinedEvent:
    return QuarantinedEvent(
        name=projection.name,
        version=projection.version,
        tenant_id=tenant_of(event),
        position=event.position,
        event_id=event.event_id,
        stream_id=event.stream_id,
        stream_version=event.version,
        event_type=event.type,
        failed=failed,
        error=error,
    )


def held_behind(projection: Projection, event: RecordedEvent, first: UUID) -> QuarantinedEvent:
    text = f"held behind event {first}, which failed earlier"
    return quarantined(projection, event, error=text, failed=False)


def changes_of(projection: Projection, mapper: EventMapper, event: RecordedEvent) -> list[Change]:
    """The event's changes, checked against the projection's tables (any failure raises)."""
    changes = projection.handle(event, decoded_for(projection, mapper, event))
    specs = projection.table_specs()
    for change in changes:
        check_change(change, specs)
    return changes


def decoded_for(projection: Projection, mapper: EventMapper, event: RecordedEvent) -> object:
    """The event as ``projection`` reads it: the fields it names (ADR 0048), or None."""
    if not projection.decodes:
        return None
    if projection.reads is None:
        return mapper.from_recorded(event)
    return mapper.from_recorded_fields(event, projection.reads)


@dataclass(frozen=True)
class Resolution:
    """What ``retry`` or ``skip`` did for one tenant: applied, skipped, still held."""

    tenant_id: str
    applied: int
    skipped: int
    held: int
    error: str | None


class NotHeldError(LookupError):
    """The event to skip is not the one the projection holds first for the tenant."""


@dataclass(frozen=True)
class QuarantineServices:
    """Where held events come from (``store``) and where they are kept and applied."""

    store: EventStore
    read_models: QuarantineStore
    mapper: EventMapper = field(default_factory=EventMapper)


async def retry(
    services: QuarantineServices, projection: Projection, tenant_id: str | None = None
) -> list[Resolution]:
    """Applies each tenant's held events in order, up to the first that still fails."""
    return [
        await _resolve(services, projection, tenant, None)
        for tenant in await _tenants(services.read_models, projection, tenant_id)
    ]


async def skip(
    services: QuarantineServices,
    projection: Projection,
    tenant_id: str,
    event_id: UUID | None = None,
) -> Resolution:
    """Drops the tenant's failing event (``event_id``, or its first held event, which must
    be it) without applying it, then applies the rest as ``retry`` does.

    ``NotHeldError`` if the event is not the tenant's first held event."""
    read_models = services.read_models
    held = await read_models.quarantined(projection.name, projection.version, tenant_id)
    if not held or (event_id is not None and held[0].event_id != event_id):
        raise NotHeldError(
            f"{event_id or 'no event'} is not the first event {projection.key} holds for"
            f" tenant {tenant_id}: skip that one first"
        )
    return await _resolve(services, projection, tenant_id, held[0].event_id)


async def _tenants(
    read_models: QuarantineStore, projection: Projection, tenant_id: str | None
) -> list[str]:
    if tenant_id is not None:
        return [tenant_id]
    held = await read_models.quarantined(projection.name, projection.version)
    return list(dict.fromkeys(entry.tenant_id for entry in held))


async def _resolve(
    services: QuarantineServices, projection: Projection, tenant_id: str, skipping: UUID | None
) -> Resolution:
    store, read_models, mapper = services.store, services.read_models, services.mapper
    applied = skipped = 0
    while True:
        held = await read_models.quarantined(projection.name, projection.version, tenant_id)
        if not held:
            return Resolution(tenant_id, applied, skipped, 0, None)
        entry = held[0]
        if entry.event_id == skipping:
            changes: list[Change] = []
        else:
            try:
                changes = changes_of(projection, mapper, await _event(store, entry))
            except Exception as error:
                text = error_text(error)
                await read_models.mark_failed(entry, text)
                return Resolution(tenant_id, applied, skipped, len(held), text)
        try:
            await read_models.release(projection, entry, changes)
        except QuarantineChangedError:
            continue  # released meanwhile: look again
        except InvalidChangeError as error:
            text = error_text(error)
            await read_models.mark_failed(entry, text)
            return Resolution(tenant_id, applied, skipped, len(held), text)
        if entry.event_id == skipping:
            skipped += 1
        else:
            applied += 1


async def _event(store: EventStore, entry: QuarantinedEvent) -> RecordedEvent:
    found = await store.read_stream(entry.stream_id, entry.stream_version, entry.stream_version)
    if len(found) != 1 or found[0].event_id != entry.event_id:
        raise LookupError(f"event {entry.event_id} is no longer in the event store")
    return found[0]


__all__ = [
    "NotHeldError",
    "QuarantineServices",
    "Resolution",
    "held_behind",
    "quarantined",
    "retry",
    "skip",
]
