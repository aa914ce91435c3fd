"""Tracked parcels: which shipment a carrier's tracking number belongs to, and when the
poller last asked the carrier about it (ADR 0032).

A parcel is watched as soon as its label is bought, before the label is recorded on the
shipment (as its document is stored first): a crash between the two leaves a row whose
tracking number the shipment does not (yet) carry, which processing ignores. Webhooks
find their shipment here by (carrier, tracking number); the poller takes the open
parcels due for a check, oldest check first, a bounded batch at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from commerce_core.fulfilment.ports import TrackingEvent, TrackingStatus
from commerce_core.fulfilment.shipment import ShipmentStatus


class TrackedParcel(msgspec.Struct, frozen=True, kw_only=True):
    """A label's parcel: ``carrier`` is the tenant's connection that sold it (``ups``,
    ``shipengine``, ``fake``). ``open`` until it is delivered or returned to sender."""

    tenant_id: str
    shipment_id: UUID
    carrier: str
    tracking_number: str
    open: bool = True
    checked_at: datetime | None = None


class TrackedParcels(Protocol):
    """Parcels by carrier and tracking number.

    - ``watch`` stores a parcel (again: no change, so a retried label purchase is
      harmless); a tracking number belongs to the first shipment that watched it.
    - ``find`` returns the parcel of ``(carrier, tracking_number)``, or None.
    - ``due`` returns up to ``limit`` open parcels of ``carriers`` not checked since
      ``before`` (never checked first, then the oldest check).
    - ``checked`` records a check at ``at``; ``open=False`` ends the parcel's checks.
    """

    async def watch(self, parcel: TrackedParcel) -> None: ...

    async def find(self, carrier: str, tracking_number: str) -> TrackedParcel | None: ...

    async def due(
        self, *, carriers: frozenset[str], before: datetime, limit: int
    ) -> list[TrackedParcel]: ...

    async def checked(
        self, carrier: str, tracking_number: str, *, at: datetime, open: bool = True
    ) -> None: ...


SCAN_STATUS: dict[TrackingStatus, ShipmentStatus | None] = {
    TrackingStatus.PRE_TRANSIT: None,  # the label exists: nothing moved
    TrackingStatus.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: ShipmentStatus.OUT_FOR_DELIVERY,
    TrackingStatus.DELIVERED: ShipmentStatus.DELIVERED,
    TrackingStatus.EXCEPTION: ShipmentStatus.EXCEPTION,
    TrackingStatus.RETURNED_TO_SENDER: ShipmentStatus.RETURNED_TO_SENDER,
}
"""What each normalised carrier status does to a shipment (None: nothing)."""


class ParcelScans(msgspec.Struct, frozen=True, kw_only=True):
    """A carrier's news of one parcel (a webhook's, or an answer to ``track``)."""

    carrier: str
    tracking_number: str
    scans: list[TrackingEvent]


class TrackingWebhookError(ValueError):
    """A carrier's tracking webhook that is signed but not one we can read."""


class TrackingWebhooks(Protocol):
    """A carrier's tracking webhooks: how they are authenticated and what they say.

    - ``carrier`` is the connection name (``POST /webhooks/carriers/{carrier}``);
      ``gateway`` is the inbox's name for its events (``carrier:<name>``).
    - ``credential_header`` / ``credential_query``: where the request carries the
      shared secret the carrier was given (a header, or a query parameter of the URL
      registered with it).
    - ``verify`` returns the event when ``credential`` equals one of ``secrets``
      (compared in constant time) and the body is a readable event; otherwise
      ``InvalidSignatureError`` (payments' webhook port), or ``TrackingWebhookError``
      for a body it cannot read.
    - ``translate`` returns a stored event's scans, or None for an event that is not
      about tracking; ``TrackingWebhookError`` when unreadable.
    """

    carrier: str
    gateway: str
    credential_header: str | None
    credential_query: str | None

    def verify(self, payload: bytes, credential: str | None, secrets: Sequence[str]) -> Any: ...

    def translate(self, payload: bytes) -> ParcelScans | None: ...
