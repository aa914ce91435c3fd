"""The carrier port: shipping rates and labels from a parcel carrier."""

from __future__ import annotations

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
    """What one service of the carrier would charge for a parcel."""

    carrier: str
    service: str
    rate: Money
    estimated_days: int | None = None


class Label(msgspec.Struct, frozen=True, kw_only=True):
    """A bought label: the parcel's tracking number and where to print the label from."""

    carrier: str
    service: str
    tracking_number: str
    label_url: str
    rate: Money


class CarrierError(Exception):
    """The carrier could not quote or label (down, refused the address, ...)."""


class UnsupportedServiceError(CarrierError):
    """The carrier has no such service (or does not offer it for this parcel)."""


class Carrier(Protocol):
    """A parcel carrier (or a shipping API standing for several).

    - ``name`` is what shipments record as their ``carrier``.
    - ``quote`` lists the services that can take the parcel from ``ship_from``
      to ``ship_to``, each with a non-negative rate in ``currency``.
    - ``create_label`` buys a label for one of those services; its rate is the
      one ``quote`` gave for that service, and its tracking number is unique
      to it. An unknown service raises ``UnsupportedServiceError``; any other
      failure ``CarrierError``. ``reference`` (the shipment id) is printed on
      the label and lets the carrier's records be matched to ours.
      ``idempotency_key``: the same key again returns the label bought the first
      time (a retry never buys a second one).
    """

    @property
    def name(self) -> str: ...

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
