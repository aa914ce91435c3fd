"""A fake carrier: rates from a table, labels as small generated PDFs, tracking a test
moves by hand (``advance``). No network, no credentials: tests and ``make run`` use it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commerce_core.fulfilment.connections import CarrierDetails, ConnectedCarrier
from commerce_core.fulfilment.ports import (
    Carrier,
    CarrierError,
    Label,
    LabelDocument,
    LabelFormat,
    LabelNotVoidableError,
    Parcel,
    Quote,
    TrackingEvent,
    TrackingStatus,
    UnknownTrackingNumberError,
    UnsupportedServiceError,
)
from commerce_core.shared.money import Money, check_currency
from commerce_core.shared.values import Address


class FakeService(msgspec.Struct, frozen=True, kw_only=True):
    """A rate of ``base + per_kg`` for each started kilogram, in minor units of any currency."""

    base: int
    per_kg: int
    days: int
    name: str = ""


DEFAULT_SERVICES: dict[str, FakeService] = {
    "standard": FakeService(base=500, per_kg=100, days=4, name="Standard"),
    "express": FakeService(base=1500, per_kg=250, days=1, name="Express"),
}


def label_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    safe = "".join(c for c in text if c.isascii() and c not in "()\\")
    stream = f"BT /F1 24 Tf 40 200 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432]"
        b" /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


class FakeCarrier:
    """Satisfies the ``Carrier`` contract; ``fail_next`` makes the next call raise,
    ``advance`` adds a scan to a parcel's tracking."""

    def __init__(self, name: str = "fake", services: dict[str, FakeService] | None = None) -> None:
        self._name = name
        self._services = dict(services or DEFAULT_SERVICES)
        self._issued = 0
        self._failure: CarrierError | None = None
        self.labels: list[tuple[str, Label]] = []
        """Every label bought, with its reference: what a test asserts on."""
        self._by_key: dict[str, Label] = {}
        self._scans: dict[str, list[TrackingEvent]] = {}
        self.voided: set[str] = set()

    @property
    def name(self) -> str:
        return self._name

    @property
    def deduplicates(self) -> bool:
        # keys are remembered for this process's lifetime: it plays a vendor that deduplicates
        return True

    def fail_next(self, error: CarrierError | None = None) -> None:
        self._failure = error or CarrierError(f"{self._name} is unavailable")

    def advance(
        self, tracking_number: str, status: TrackingStatus, at: datetime, description: str = ""
    ) -> TrackingEvent:
        """The carrier scans a parcel: ``track`` lists this event from now on."""
        if tracking_number not in self._scans:
            raise UnknownTrackingNumberError(f"{self._name} has no parcel {tracking_number}")
        scan = TrackingEvent(
            status=status, carrier_code=status.value.upper(), at=at, description=description
        )
        self._scans[tracking_number].append(scan)
        return scan

    def _raise_if_failing(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure

    def _rate(self, service: FakeService, parcel: Parcel, currency: str) -> Money:
        started_kg = -(-parcel.weight_grams // 1000)
        return Money(service.base + service.per_kg * started_kg, currency)

    async def quote(
        self, *, ship_from: Address, ship_to: Address, parcel: Parcel, currency: str
    ) -> list[Quote]:
        self._raise_if_failing()
        check_currency(currency)
        return [
            Quote(
                carrier=self._name,
                service=code,
                service_name=service.name or code,
                rate=self._rate(service, parcel, currency),
                delivery_days=service.days,
            )
            for code, service in self._services.items()
        ]

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
    ) -> Label:
        if (bought := self._by_key.get(idempotency_key)) is not None:
            return bought
        self._raise_if_failing()
        check_currency(currency)
        if service not in self._services:
            raise UnsupportedServiceError(f"{self._name} has no service {service!r}")
        self._issued += 1
        tracking_number = f"{self._name.upper()}{self._issued:010d}"
        label = Label(
            carrier=self._name,
            service=service,
            tracking_number=tracking_number,
            label_id=tracking_number,
            cost=self._rate(self._services[service], parcel, currency),
            document=LabelDocument(
                format=LabelFormat.PDF,
                content=label_pdf(f"{tracking_number} {ship_to.postal_code} {reference}"),
                url=f"https://labels.example.com/{self._name}/{tracking_number}.pdf",
            ),
        )
        self.labels.append((reference, label))
        self._by_key[idempotency_key] = label
        self._scans[tracking_number] = []
        return label

    async def void_label(self, label_id: str) -> None:
        self._raise_if_failing()
        scans = self._scans.get(label_id)
        if scans is None:
            raise UnknownTrackingNumberError(f"{self._name} has no label {label_id}")
        if scans:  # handed over: too late
            raise LabelNotVoidableError(f"{self._name} label {label_id} is already in transit")
        self.voided.add(label_id)

    async def track(self, tracking_number: str) -> list[TrackingEvent]:
        self._raise_if_failing()
        scans = self._scans.get(tracking_number)
        if scans is None:
            raise UnknownTrackingNumberError(f"{self._name} has no parcel {tracking_number}")
        return sorted(scans, key=lambda scan: scan.at)


class OneCarrier:
    """``TenantCarriers`` giving every tenant the one carrier, whatever the name, shipping
    from ``ship_from`` (tests: the fake, or an adapter on a test server)."""

    def __init__(self, carrier: Carrier, ship_from: Address | None = None) -> None:
        self.carrier = carrier
        self._details = CarrierDetails(ship_from=ship_from)

    async def carrier_for(self, tenant_id: str, name: str) -> Carrier:
        return self.carrier

    async def connected(self, tenant_id: str, name: str) -> ConnectedCarrier:
        return ConnectedCarrier(carrier=self.carrier, details=self._details)

    def invalidate(self, tenant_id: str | UUID) -> None:
        pass
