"""The carrier contract: every Carrier adapter passes these tests.

The UPS and ShipEngine adapters run against local HTTP servers that check every request
they send against the vendor's published OpenAPI document and answer from its response
schemas (tests/integration/carriers); the server's spec violations fail the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import pytest

from adapters.memory.carrier import FakeCarrier
from commerce_core.fulfilment.ports import (
    Carrier,
    CarrierError,
    Label,
    LabelNotVoidableError,
    Parcel,
    TrackingStatus,
    UnknownTrackingNumberError,
    UnsupportedServiceError,
)
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address
from tests.integration.carriers import running


class Scanner:
    """Moves a parcel on, whichever carrier sold its label (the test's hand on the vendor)."""

    def __init__(self, scan: Callable[[str, TrackingStatus], None]) -> None:
        self.scan = scan


Running = tuple[Carrier, Scanner]


@asynccontextmanager
async def fake() -> AsyncIterator[Running]:
    carrier = FakeCarrier()
    hours = iter(range(10, 24))

    def scan(number: str, status: TrackingStatus) -> None:
        carrier.advance(number, status, datetime(2026, 1, 5, next(hours), tzinfo=UTC))

    yield carrier, Scanner(scan)


UPS_CODES = {TrackingStatus.IN_TRANSIT: ("I", "DP"), TrackingStatus.DELIVERED: ("D", "KB")}
SHIPENGINE_CODES = {TrackingStatus.IN_TRANSIT: ("it", "IT"), TrackingStatus.DELIVERED: ("de", "DE")}


@asynccontextmanager
async def ups() -> AsyncIterator[Running]:
    async with running.ups() as (carrier, world, _):
        yield carrier, Scanner(lambda number, status: world.scans[number].append(UPS_CODES[status]))


@asynccontextmanager
async def shipengine() -> AsyncIterator[Running]:
    async with running.shipengine() as (carrier, world, _):
        yield (
            carrier,
            Scanner(lambda number, status: world.scans[number].append(SHIPENGINE_CODES[status])),
        )


CARRIERS: dict[str, Callable[[], AbstractAsyncContextManager[Running]]] = {
    "fake": fake,
    "ups": ups,
    "shipengine": shipengine,
}

WAREHOUSE = Address(
    name="Shop",
    line1="1 Main St",
    city="Springfield",
    region="IL",
    postal_code="62701",
    country="US",
)
CUSTOMER = Address(
    name="Ada", line1="2 Elm St", city="Portland", region="OR", postal_code="97201", country="US"
)
SMALL = Parcel(weight_grams=800)
HEAVY = Parcel(weight_grams=12_500, length_mm=600, width_mm=400, height_mm=400)


@pytest.fixture(params=sorted(CARRIERS))
async def running_carrier(request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    async with CARRIERS[request.param]() as found:
        yield found


@pytest.fixture
def carrier(running_carrier: Running) -> Carrier:
    return running_carrier[0]


@pytest.fixture
def scanner(running_carrier: Running) -> Scanner:
    return running_carrier[1]


async def test_a_quote_lists_services_with_rates_in_the_asked_currency(carrier: Carrier) -> None:
    quotes = await carrier.quote(
        ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD"
    )

    assert quotes
    assert len({quote.service for quote in quotes}) == len(quotes)
    for quote in quotes:
        assert quote.carrier == carrier.name
        assert quote.rate.currency == "USD"
        assert not quote.rate.is_negative


async def test_a_label_costs_what_its_service_was_quoted(carrier: Carrier) -> None:
    [quote, *_] = await carrier.quote(
        ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD"
    )

    label = await carrier.create_label(
        ship_from=WAREHOUSE,
        ship_to=CUSTOMER,
        parcel=SMALL,
        service=quote.service,
        currency="USD",
        reference="shipment-1",
        idempotency_key="label-1",
    )

    assert (label.carrier, label.service, label.cost) == (carrier.name, quote.service, quote.rate)
    assert label.tracking_number.strip()
    assert label.document.content


async def test_every_label_has_its_own_tracking_number(carrier: Carrier) -> None:
    [quote, *_] = await carrier.quote(
        ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD"
    )

    numbers = {
        (
            await carrier.create_label(
                ship_from=WAREHOUSE,
                ship_to=CUSTOMER,
                parcel=SMALL,
                service=quote.service,
                currency="USD",
                reference=f"shipment-{n}",
                idempotency_key=f"label-{n}",
            )
        ).tracking_number
        for n in range(3)
    }

    assert len(numbers) == 3


async def test_a_heavier_parcel_never_costs_less(carrier: Carrier) -> None:
    small = await carrier.quote(ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD")
    heavy = await carrier.quote(ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=HEAVY, currency="USD")
    heavy_rates = {quote.service: quote.rate for quote in heavy}

    for quote in small:
        if quote.service in heavy_rates:
            assert heavy_rates[quote.service] >= quote.rate


async def test_an_unknown_service_is_refused(carrier: Carrier) -> None:
    with pytest.raises(UnsupportedServiceError):
        await carrier.create_label(
            ship_from=WAREHOUSE,
            ship_to=CUSTOMER,
            parcel=SMALL,
            service="teleport",
            currency="USD",
            reference="shipment-1",
            idempotency_key="label-1",
        )


async def test_the_same_key_again_returns_the_label_bought_the_first_time(
    carrier: Carrier,
) -> None:
    [quote, *_] = await carrier.quote(
        ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD"
    )

    async def buy(key: str) -> str:
        label = await carrier.create_label(
            ship_from=WAREHOUSE,
            ship_to=CUSTOMER,
            parcel=SMALL,
            service=quote.service,
            currency="USD",
            reference="shipment-1",
            idempotency_key=key,
        )
        return label.tracking_number

    first = await buy("label-1")

    assert await buy("label-1") == first
    assert await buy("label-2") != first


async def buy(carrier: Carrier, key: str = "label-1") -> Label:
    [quote, *_] = await carrier.quote(
        ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD"
    )
    label = await carrier.create_label(
        ship_from=WAREHOUSE,
        ship_to=CUSTOMER,
        parcel=SMALL,
        service=quote.service,
        currency="USD",
        reference="shipment-1",
        idempotency_key=key,
    )
    return label


async def test_a_label_not_yet_handed_over_can_be_voided(carrier: Carrier) -> None:
    await carrier.void_label((await buy(carrier)).label_id)


async def test_a_label_in_transit_cannot_be_voided(carrier: Carrier, scanner: Scanner) -> None:
    label = await buy(carrier)
    scanner.scan(label.tracking_number, TrackingStatus.IN_TRANSIT)

    with pytest.raises(LabelNotVoidableError):
        await carrier.void_label(label.label_id)


async def test_tracking_lists_the_scans_oldest_first_with_normalised_statuses(
    carrier: Carrier, scanner: Scanner
) -> None:
    [quote, *_] = await carrier.quote(
        ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD"
    )
    label = await carrier.create_label(
        ship_from=WAREHOUSE,
        ship_to=CUSTOMER,
        parcel=SMALL,
        service=quote.service,
        currency="USD",
        reference="shipment-1",
        idempotency_key="label-1",
    )
    assert await carrier.track(label.tracking_number) == []

    scanner.scan(label.tracking_number, TrackingStatus.IN_TRANSIT)
    scanner.scan(label.tracking_number, TrackingStatus.DELIVERED)
    events = await carrier.track(label.tracking_number)

    assert [event.status for event in events] == [
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.DELIVERED,
    ]
    assert events[0].at < events[1].at
    assert all(event.carrier_code for event in events)


async def test_an_unknown_tracking_number_is_refused(carrier: Carrier) -> None:
    with pytest.raises(UnknownTrackingNumberError):
        await carrier.track("NOSUCHPARCEL1")


# The fake's own controls, used by application tests.


async def test_the_fake_fails_the_next_call_when_told_and_then_recovers() -> None:
    fake = FakeCarrier()
    fake.fail_next()

    with pytest.raises(CarrierError):
        await fake.quote(ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD")
    assert await fake.quote(ship_from=WAREHOUSE, ship_to=CUSTOMER, parcel=SMALL, currency="USD")


async def test_the_fake_remembers_the_labels_it_sold() -> None:
    fake = FakeCarrier(name="acme")

    label = await fake.create_label(
        ship_from=WAREHOUSE,
        ship_to=CUSTOMER,
        parcel=HEAVY,
        service="express",
        currency="EUR",
        reference="shipment-9",
        idempotency_key="label-9",
    )

    assert fake.labels == [("shipment-9", label)]
    assert label.cost == Money(1500 + 250 * 13, "EUR")
    assert label.tracking_number == "ACME0000000001"
    assert label.document.content.startswith(b"%PDF-1.4")
    assert label.document.content.rstrip().endswith(b"%%EOF")
