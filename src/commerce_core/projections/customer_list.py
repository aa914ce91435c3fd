"""The customer list: one row per customer, for `GET /customers` and segment members.

Personal data stays sealed here as the events hold it (the email and name as
``Encrypted`` JSON, tags sealed or, from events recorded before ADR 0021, plain):
the query side opens them with the customer's key, so a shredded key shows
nothing. Search never needs a plain value: ``email_index`` is the email's blind
index (the one ``EmailClaim`` uses) and ``tag_indexes`` the tags' (ADR 0025).
The erasure empties every personal column, so an erased customer is found by
neither their old email nor their old tags.
"""

from __future__ import annotations

from typing import Any

import msgspec

from commerce_core.customers.customer import Customer, CustomerStatus
from commerce_core.eventstore import RecordedEvent
from commerce_core.projections.changes import Change, Upsert
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

Events: Any = Customer  # the event classes are made by the @event decorator at run time

TABLE = "customer_list"

CUSTOMER_LIST_TABLE = TableSpec(
    TABLE,
    key=("tenant_id", "customer_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("customer_id", "uuid"),
        Column("status", "text"),
        Column("email", "jsonb"),
        Column("email_index", "text"),
        Column("name", "jsonb"),
        Column("tags", "jsonb", default=[]),
        Column("tag_indexes", "jsonb", default=[]),
        Column("created_at", "timestamptz"),
        Column("updated_at", "timestamptz"),
    ],
    indexes=[
        Index(("tenant_id", "created_at", "customer_id")),
        Index(("tenant_id", "email_index")),
    ],
)


class CustomerList(Projection):
    """Follows each customer's profile fields that the list shows or searches."""

    name = "customer_list"
    version = 1
    tables = (CUSTOMER_LIST_TABLE,)
    _wanted = topics(
        Events.Registered,
        Events.EmailChanged,
        Events.NameChanged,
        Events.TagsSet,
        Events.Blocked,
        Events.Unblocked,
        Events.Erased,
    )

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        key = {"tenant_id": event.metadata.tenant_id, "customer_id": event.stream_id}
        values = _values(decoded)
        if values is None:
            return []
        values["updated_at"] = getattr(decoded, "at", event.recorded_at)
        return [Upsert(TABLE, key, values)]


def _values(e: Any) -> dict[str, Any] | None:
    if isinstance(e, Events.Registered):
        return {
            "status": CustomerStatus.ACTIVE.value,
            "email": _json(e.email),
            "email_index": e.email_index,
            "name": _json(e.name),
            "tags": _json(e.tags),
            "tag_indexes": list(e.tag_indexes or []),
            "created_at": e.at,
        }
    if isinstance(e, Events.EmailChanged):
        return {"email": _json(e.email), "email_index": e.email_index}
    if isinstance(e, Events.NameChanged):
        return {"name": _json(e.name)}
    if isinstance(e, Events.TagsSet):
        return {"tags": _json(e.tags), "tag_indexes": list(e.tag_indexes or [])}
    if isinstance(e, Events.Blocked):
        return {"status": CustomerStatus.BLOCKED.value}
    if isinstance(e, Events.Unblocked):
        return {"status": CustomerStatus.ACTIVE.value}
    if isinstance(e, Events.Erased):
        return {
            "status": CustomerStatus.ERASED.value,
            "email": None,
            "email_index": None,
            "name": None,
            "tags": [],
            "tag_indexes": [],
        }
    return None


def _json(value: Any) -> Any:
    return msgspec.to_builtins(value)
