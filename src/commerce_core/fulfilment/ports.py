"""The carrier port: rates, labels, voids and tracking from a parcel carrier (ADR 0028)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

import msgspec

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address


class Parcel(msgspec.Struct, frozen=True, kw_only=True):
    """What is being sent: weight in grams, optional dimensions in millimetres."""

    weight_grams: int
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None

    def __post_init__(self) -> None:
        sizes = (self.weight_grams, self.length_mm, self.width_mm, self.height_mm)
        if any(size is not None and size <= 0 for size in sizes):
            raise InvalidValueError("parcel weight and dimensions must be positive")


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """What one service of the carrier would charge for a parcel.

    ``service`` is the code ``create_label`` takes (``usps_priority_mail``, UPS ``03``);
    ``service_name`` is for people. ``rate_id`` is the vendor's id of this rate where it
    has one (ShipEngine), else None. ``delivery_days`` is the carrier's estimate."""

    carrier: str
    service: str
    service_name: str
    rate: Money
    delivery_days: int | None = None
    rate_id: str | None = None


class LabelFormat(StrEnum):
    PDF = "pdf"
    PNG = "png"
    ZPL = "zpl"
    GIF = "gif"


class LabelDocument(msgspec.Struct, frozen=True, kw_only=True):
    """The printable label itself. An adapter whose vendor answers with a link fetches it,
    so the bytes are always here; ``url`` keeps the vendor's link when there is one."""

    format: LabelFormat
    content: bytes
    url: str | None = None


class Label(msgspec.Struct, frozen=True, kw_only=True):
    """A bought label: its tracking number, what it cost us, and the document to print.

    ``label_id`` is what ``void_label`` takes (ShipEngine's label id, UPS's shipment
    identification number)."""

    carrier: str
    service: str
    tracking_number: str
    label_id: str
    cost: Money
    document: LabelDocument

    @property
    def url(self) -> str | None:
        return self.document.url


class TrackingStatus(StrEnum):
    """Carriers' many codes, normalised. ``pre_transit``: the label exists, the parcel
    has not been handed over yet (shipments ignore it)."""

    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


class TrackingEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One scan of a parcel: our status, the carrier's own code and words, and when."""

    status: TrackingStatus
    carrier_code: str
    at: datetime
    description: str = ""


class CarrierError(Exception):
    """The carrier could not quote, label, void or track (down, refused, ...).

    Carries the vendor's own message when it sent one."""


class CarrierUnavailableError(CarrierError):
    """Retriable: the carrier did not answer, answered 5xx, or answered something
    unreadable. A label may or may not have been bought: ask again with the same key."""


class CarrierRefusedError(CarrierError):
    """The carrier refused the request itself (4xx with its message): nothing was
    bought or changed, and asking again the same way will be refused again."""


class UnsupportedServiceError(CarrierRefusedError):
    """The carrier has no such service (or does not offer it for this parcel)."""


class AddressRefusedError(CarrierRefusedError):
    """The carrier will not ship to or from this address."""


class LabelNotVoidableError(CarrierRefusedError):
    """The carrier will not void this label (already used, too late, or never voids)."""


class UnknownTrackingNumberError(CarrierRefusedError):
    """The carrier knows no parcel by this tracking number."""


class Carrier(Protocol):
    """A parcel carrier (or a shipping API standing for several).

    - ``name`` is what shipments record as their ``carrier``.
    - ``quote`` lists the services that can take the parcel from ``ship_from``
      to ``ship_to``, each with a non-negative rate in ``currency``.
    - ``create_label`` buys a label for one of those services; its cost is the
      one ``quote`` gave for that service, and its tracking number is unique
      to it. ``reference`` (the shipment id) is printed on the label and lets
      the carrier's records be matched to ours. ``idempotency_key``: the same
      key again returns the label bought the first time (a retry never buys a
      second one).
    - ``void_label`` voids a label not yet used (``LabelNotVoidableError`` where
      the carrier will not); voiding twice is not an error.
    - ``track`` lists a parcel's scans, oldest first.
    - ``deduplicates``: whether ``create_label`` honours ``idempotency_key`` across
      processes and restarts (the vendor deduplicates, or can be asked by key). A
      carrier that does not (UPS) is never asked again for a label intent someone
      else recorded: its outcome is unknown (ADR 0030).

    Errors: ``CarrierRefusedError`` (and its kinds ``UnsupportedServiceError``,
    ``AddressRefusedError``, ...) when the carrier refused the request and nothing
    happened; ``CarrierUnavailableError`` when it may be worth asking again.
    """

    @property
    def name(self) -> str: ...

    @property
    def deduplicates(self) -> bool: ...

    async def quote(
        self, *, ship_from: Address, ship_to: Address, parcel: Parcel, currency: str
    ) -> list[Quote]: ...

    async def create_label(
        self,
        *,
        ship_from: Address,
        ship_to: Address,
        parcel: Parcel,
        service: str,
        currency: str,
        reference: str,
        idempotency_key: str,
    ) -> Label: ...

    async def void_label(self, label_id: str) -> None: ...

    async def track(self, tracking_number: str) -> list[TrackingEvent]: ...


class CarrierDirectory(Protocol):
    """The carriers a tenant reaches, by name (what a zone method's ``carrier`` says).

    ``carrier_for`` returns ``None`` or raises ``CarrierNotConnectedError`` when the
    tenant has no carrier by that name. The tenant's carrier connections answer here
    (``connections.TenantCarriers``, ADR 0030).
    """

    async def carrier_for(self, tenant_id: str, name: str) -> Carrier | None: ...
