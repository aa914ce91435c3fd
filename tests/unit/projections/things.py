"""A projection with one table of every column type, for applier tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from commerce_core.eventstore import RecordedEvent
from commerce_core.projections import Change, Column, Index, Projection, TableSpec

THINGS = TableSpec(
    "things",
    key=("tenant_id", "thing_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("thing_id", "uuid"),
        Column("label", "text"),
        Column("count", "int", default=0),
        Column("total", "int"),
        Column("score", "int", default=10),
        Column("flag", "bool", default=False),
        Column("at", "timestamptz"),
        Column("ref", "uuid"),
        Column("doc", "jsonb", default={"new": True}),
    ],
    indexes=[Index(("tenant_id", "label")), Index(("tenant_id", "ref"), unique=True)],
)
TAGS = TableSpec(
    "thing_tags",
    key=("tenant_id", "thing_id", "tag"),
    columns=[Column("tenant_id", "text"), Column("thing_id", "uuid"), Column("tag", "text")],
)


class Things(Projection):
    """Only its tables matter here: the tests hand changes to the applier directly."""

    name = "things"

    def __init__(self, version: int = 1) -> None:
        self.version = version
        self.tables = (THINGS, TAGS)

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        return []


T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def key(tenant: str = "t1", thing: UUID | None = None) -> dict[str, Any]:
    return {"tenant_id": tenant, "thing_id": thing or uuid4()}
