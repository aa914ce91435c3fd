"""Tracked parcels in PostgreSQL (table ``tracked_parcels``, migration 0022)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from commerce_core.fulfilment.tracking import TrackedParcel

_COLUMNS = "carrier, tracking_number, tenant_id, shipment_id, open, checked_at"


def _parcel(row: asyncpg.Record) -> TrackedParcel:
    return TrackedParcel(
        carrier=row["carrier"],
        tracking_number=row["tracking_number"],
        tenant_id=row["tenant_id"],
        shipment_id=row["shipment_id"],
        open=row["open"],
        checked_at=row["checked_at"],
    )


class PostgresTrackedParcels:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def watch(self, parcel: TrackedParcel) -> None:
        await self._pool.execute(
            "INSERT INTO tracked_parcels (carrier, tracking_number, tenant_id, shipment_id)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            parcel.carrier,
            parcel.tracking_number,
            parcel.tenant_id,
            parcel.shipment_id,
        )

    async def find(self, carrier: str, tracking_number: str) -> TrackedParcel | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM tracked_parcels WHERE carrier = $1 AND tracking_number = $2",
            carrier,
            tracking_number,
        )
        return None if row is None else _parcel(row)

    async def due(
        self, *, carriers: frozenset[str], before: datetime, limit: int
    ) -> list[TrackedParcel]:
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM tracked_parcels"
            " WHERE open AND carrier = ANY($1::text[]) AND (checked_at IS NULL OR checked_at < $2)"
            " ORDER BY checked_at NULLS FIRST LIMIT $3",
            sorted(carriers),
            before,
            limit,
        )
        return [_parcel(row) for row in rows]

    async def checked(
        self, carrier: str, tracking_number: str, *, at: datetime, open: bool = True
    ) -> None:
        await self._pool.execute(
            "UPDATE tracked_parcels SET checked_at = $3, open = $4"
            " WHERE carrier = $1 AND tracking_number = $2",
            carrier,
            tracking_number,
            at,
            open,
        )
