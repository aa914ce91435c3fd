"""Audit export: every event of one tenant, in the global order, as self-contained records."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import msgspec

from commerce_core.eventstore import START, EventStore, RecordedEvent
from commerce_core.projections.projection import event_name, stream_type


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event with everything needed to read it out of context.

    ``data`` is the stored JSON payload, unchanged; ``type`` is the full event
    type (its topic) so the record can be decoded again.
    """

    position: tuple[int, int]
    event_id: UUID
    stream_id: UUID
    stream_type: str
    version: int
    type: str
    name: str
    recorded_at: datetime
    tenant_id: str
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    data: msgspec.Raw

    @classmethod
    def of(cls, event: RecordedEvent) -> AuditRecord:
        meta = event.metadata
        return cls(
            position=(event.position.tx_id, event.position.global_position),
            event_id=event.event_id,
            stream_id=event.stream_id,
            stream_type=stream_type(event.type),
            version=event.version,
            type=event.type,
            name=event_name(event.type),
            recorded_at=event.recorded_at,
            tenant_id=meta.tenant_id,
            actor=meta.actor,
            correlation_id=meta.correlation_id,
            causation_id=meta.causation_id,
            data=msgspec.Raw(event.data),
        )


async def export_events(
    store: EventStore,
    tenant_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch_size: int = 1000,
) -> AsyncIterator[AuditRecord]:
    """The tenant's events recorded in ``[since, until)``, streamed batch by batch.

    The whole log of the tenant is read (``recorded_at`` is not indexed, and
    only roughly follows the global order), so memory stays at one batch.
    """
    after = START
    while True:
        batch = await store.read_all(after, batch_size, tenant_id=tenant_id)
        for event in batch:
            at = event.recorded_at
            if (since is None or at >= since) and (until is None or at < until):
                yield AuditRecord.of(event)
        if len(batch) < batch_size:
            return
        after = batch[-1].position
