"""The open-effects index: every intent recorded and not yet closed, for recovery.

An intent (``EffectRequested``) adds a row; closing it (``EffectCompleted``) removes
it. The table is small (intents close within a request, unless a crash or a late
vendor leaves them open) and, like any read model, can be rebuilt from the events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from commerce_core.eventstore import RecordedEvent
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.payments.payment import Payment
from commerce_core.projections.changes import Change, Delete, Upsert
from commerce_core.projections.ports.read_models import ReadModelStore
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

# the event classes are made by the @event decorator at run time
Payments: Any = Payment
Shipments: Any = Shipment

TABLE = "open_effects"

OPEN_EFFECTS_TABLE = TableSpec(
    TABLE,
    key=("tenant_id", "stream_id", "key"),
    columns=[
        Column("stream_id", "uuid"),
        Column("key", "text"),
        Column("tenant_id", "text"),
        Column("stream", "text"),
        Column("kind", "text"),
        Column("requested_at", "timestamptz"),
    ],
    indexes=[Index(("requested_at",))],
)


class OpenEffect(msgspec.Struct, frozen=True, kw_only=True):
    """An intent without its outcome: which stream holds it, and since when."""

    tenant_id: str
    stream: str
    stream_id: UUID
    key: str
    kind: str
    requested_at: datetime


class OpenEffects(Projection):
    name = "open_effects"
    version = 1
    tables = (OPEN_EFFECTS_TABLE,)
    # Every aggregate with external effects records them with these two events.
    _wanted = topics(
        Payments.EffectRequested,
        Payments.EffectCompleted,
        Shipments.EffectRequested,
        Shipments.EffectCompleted,
    )

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        if isinstance(decoded, Payments.EffectRequested | Shipments.EffectRequested):
            effect = decoded.effect
            key = {
                "tenant_id": event.metadata.tenant_id,
                "stream_id": event.stream_id,
                "key": effect.key,
            }
            row = {
                "stream": "shipment"
                if isinstance(decoded, Shipments.EffectRequested)
                else "payment",
                "kind": str(effect.kind),
                "requested_at": effect.requested_at,
            }
            return [Upsert(TABLE, key, row)]
        if isinstance(decoded, Payments.EffectCompleted | Shipments.EffectCompleted):
            key = {"tenant_id": event.metadata.tenant_id, "stream_id": event.stream_id}
            return [Delete(TABLE, {**key, "key": decoded.key})]
        return []


async def open_before(read_models: ReadModelStore, before: datetime) -> list[OpenEffect]:
    """The intents recorded before ``before`` and still open, oldest first. Works in a
    process that does not run the projection (the CLI's one-shot job): preparing is
    idempotent and only makes sure the table is known."""
    await read_models.prepare(OpenEffects())
    rows = await read_models.rows(TABLE)
    effects = [OpenEffect(**row) for row in rows if row["requested_at"] < before]
    return sorted(effects, key=lambda e: (e.requested_at, e.key))
