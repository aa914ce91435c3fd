"""Tracked parcels in memory (tests, the in-memory event store)."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from commerce_core.fulfilment.tracking import TrackedParcel

_NEVER = datetime.min.replace(tzinfo=UTC)


class MemoryTrackedParcels:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], TrackedParcel] = {}

    async def watch(self, parcel: TrackedParcel) -> None:
        self.rows.setdefault((parcel.carrier, parcel.tracking_number), parcel)

    async def find(self, carrier: str, tracking_number: str) -> TrackedParcel | None:
        return self.rows.get((carrier, tracking_number))

    async def due(
        self, *, carriers: frozenset[str], before: datetime, limit: int
    ) -> list[TrackedParcel]:
        due = [
            parcel
            for parcel in self.rows.values()
            if parcel.open
            and parcel.carrier in carriers
            and (parcel.checked_at is None or parcel.checked_at < before)
        ]
        due.sort(key=lambda parcel: parcel.checked_at or _NEVER)
        return due[:limit]

    async def checked(
        self, carrier: str, tracking_number: str, *, at: datetime, open: bool = True
    ) -> None:
        key = (carrier, tracking_number)
        if key in self.rows:
            self.rows[key] = msgspec.structs.replace(self.rows[key], checked_at=at, open=open)
