"""A fake carrier: fixed services and rates, sequential tracking numbers, no network."""

from __future__ import annotations

import msgspec

from commerce_core.fulfilment.ports import (
    CarrierError,
    Label,
    Parcel,
    Quote,
    UnsupportedServiceError,
)
from commerce_core.shared.money import Money, check_currency
from commerce_core.shared.values import Address


class FakeService(msgspec.Struct, frozen=True, kw_only=True):
    """A rate of ``base + per_kg`` for each started kilogram, in minor units of any currency."""

    base: int
    per_kg: int
    days: int


DEFAULT_SERVICES: dict[str, FakeService] = {
    "standard": FakeService(base=500, per_kg=100, days=4),
    "express": FakeService(base=1500, per_kg=250, days=1),
}


class FakeCarrier:
    """Satisfies the ``Carrier`` contract; ``fail_next`` makes the next call raise."""

    def __init__(self, name: str = "fake", services: dict[str, FakeService] | None = None) -> None:
        self._name = name
        self._services = dict(services or DEFAULT_SERVICES)
        self._issued = 0
        self._failure: CarrierError | None = None
        self.labels: list[tuple[str, Label]] = []
        """Every label bought, with its reference: what a test asserts on."""
        self._by_key: dict[str, Label] = {}

    @property
    def name(self) -> str:
        return self._name

    def fail_next(self, error: CarrierError | None = None) -> None:
        self._failure = error or CarrierError(f"{self._name} is unavailable")

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
                rate=self._rate(service, parcel, currency),
                estimated_days=service.days,
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
            label_url=f"https://labels.example.com/{self._name}/{tracking_number}.pdf",
            rate=self._rate(self._services[service], parcel, currency),
        )
        self.labels.append((reference, label))
        self._by_key[idempotency_key] = label
        return label
