"""The carrier contract: every Carrier adapter passes these tests.

A real adapter joins by adding an entry to ``CARRIERS`` (skipped when its
credentials or sandbox are not configured).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adapters.memory.carrier import FakeCarrier
from commerce_core.fulfilment.ports import Carrier, CarrierError, Parcel, UnsupportedServiceError
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address

CARRIERS: dict[str, Callable[[], Carrier]] = {
    "fake": FakeCarrier,
}

WAREHOUSE = Address(
    name="Shop", line1="1 Main St", city="Springfield", postal_code="62701", country="US"
)
CUSTOMER = Address(
    name="Ada", line1="2 Elm St", city="Portland", region="OR", postal_code="97201", country="US"
)
SMALL = Parcel(weight_grams=800)
HEAVY = Parcel(weight_grams=12_500, length_mm=600, width_mm=400, height_mm=400)


@pytest.fixture(params=sorted(CARRIERS))
def carrier(request: pytest.FixtureRequest) -> Carrier:
    return CARRIERS[request.param]()


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

    assert (label.carrier, label.service, label.rate) == (carrier.name, quote.service, quote.rate)
    assert label.tracking_number.strip()
    assert label.label_url.startswith("https://")


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
    assert label.rate == Money(1500 + 250 * 13, "EUR")
    assert label.tracking_number == "ACME0000000001"
