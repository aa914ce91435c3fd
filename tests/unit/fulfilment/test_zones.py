"""Delivery zones: validation, the most specific zone wins, and ties refused up front."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.fulfilment.zone_book import ShippingZones
from commerce_core.fulfilment.zones import MethodSpec, Zone, zone_for
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address

AT = datetime(2026, 3, 1, tzinfo=UTC)
FLAT = MethodSpec(code="standard", name="Standard", price=Money(599, "USD"))


def zone(code: str, **where: tuple[str, ...]) -> Zone:
    return Zone(
        code=code,
        name=code.title(),
        countries=where.get("countries", ("US",)),
        regions=where.get("regions", ()),
        postal_prefixes=where.get("postal_prefixes", ()),
        methods=(FLAT,),
    )


def address(country: str = "US", region: str | None = "CA", postal_code: str = "94105") -> Address:
    return Address(
        name="Grace",
        line1="1 Market St",
        city="San Francisco",
        region=region,
        postal_code=postal_code,
        country=country,
    )


def test_a_postal_prefix_beats_a_region_which_beats_the_country() -> None:
    country, region = zone("us"), zone("ca", regions=("CA",))
    bay = zone("bay", postal_prefixes=("94",))
    sf = zone("sf", postal_prefixes=("941",))
    zones = [country, region, bay, sf]
    assert zone_for(zones, address(postal_code="94105")) is sf
    assert zone_for(zones, address(postal_code="94501")) is bay
    assert zone_for(zones, address(postal_code="90001")) is region
    assert zone_for(zones, address(region="NY", postal_code="10001")) is country
    assert zone_for(zones, address(country="CA", region="ON", postal_code="M5V")) is None


def test_postal_codes_match_without_spaces_and_in_any_case() -> None:
    london = zone("sw1", countries=("GB",), postal_prefixes=("SW1",))
    assert zone_for([london], address("GB", None, "sw1y 4jh")) is london
    assert zone_for([london], address("GB", None, "SE1 7PB")) is None


@given(
    prefixes=st.lists(st.text("0123456789", min_size=1, max_size=4), min_size=1, max_size=6),
    postal=st.text("0123456789", min_size=5, max_size=5),
)
def test_the_longest_matching_prefix_wins_whatever_the_order_of_zones(
    prefixes: list[str], postal: str
) -> None:
    zones = [zone(f"z{n}", postal_prefixes=(p,)) for n, p in enumerate(dict.fromkeys(prefixes))]
    zones.append(zone("country"))
    matching = [z for z in zones[:-1] if postal.startswith(z.postal_prefixes[0])]
    for ordering in (zones, list(reversed(zones))):
        chosen = zone_for(ordering, address(postal_code=postal))
        if matching:
            assert chosen is not None
            assert len(chosen.postal_prefixes[0]) == max(
                len(z.postal_prefixes[0]) for z in matching
            )
        else:
            assert chosen is zones[-1]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (zone("a"), zone("b", countries=("US", "CA"))),
        (zone("a", regions=("CA", "OR")), zone("b", regions=("CA",))),
        (zone("a", postal_prefixes=("9", "94")), zone("b", postal_prefixes=("94",))),
    ],
)
def test_zones_that_could_tie_for_an_address_are_refused(first: Zone, second: Zone) -> None:
    book = ShippingZones.start("t1", AT)
    book.put(first, AT)
    with pytest.raises(InvalidValueError, match="equally closely"):
        book.put(second, AT)
    assert list(book.zones) == ["a"]


def test_zones_matching_in_different_ways_live_together_and_a_same_put_records_nothing() -> None:
    book = ShippingZones.start("t1", AT)
    for each in (zone("us"), zone("ca", regions=("CA",)), zone("bay", postal_prefixes=("94",))):
        book.put(each, AT)
    version = book.version
    book.put(zone("us"), AT)
    assert book.version == version
    book.put(zone("us", countries=("US", "PR")), AT)  # replacing a zone never ties with itself
    assert book.zones["us"].countries == ("US", "PR")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"code": "x"}, "either a price or a carrier"),
        ({"code": "x", "price": Money(1, "USD"), "carrier": "ups", "service": "03"}, "either"),
        ({"code": "x", "carrier": "ups"}, "both a carrier and a service"),
        ({"code": "x", "price": Money(1, "USD"), "free_over": Money(1, "EUR")}, "mixes"),
        ({"code": "x", "price": Money(1, "USD"), "handling_fee": Money(1, "USD")}, "handling_fee"),
        ({"code": "x", "price": Money(-1, "USD")}, "negative"),
        ({"code": "x", "price": Money(10**14, "USD")}, "at most"),
        ({"code": "X!", "price": Money(1, "USD")}, "does not match"),
        ({"code": "x", "price": Money(1, "USD"), "delivery_days": (5, 2)}, "delivery_days"),
        ({"code": "x", "price": Money(1, "USD"), "max_weight_grams": 0}, "max_weight_grams"),
    ],
)
def test_bad_methods_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        MethodSpec(name="M", **fields)  # type: ignore[arg-type]


def test_a_zone_with_carrier_priced_methods_needs_a_ship_from_address() -> None:
    ground = MethodSpec(code="ground", name="Ground", carrier="fake", service="standard")
    with pytest.raises(InvalidValueError, match="ship_from"):
        Zone(code="us", name="US", countries=("US",), methods=(ground,))
    with pytest.raises(InvalidValueError, match="twice"):
        Zone(code="us", name="US", countries=("US",), methods=(FLAT, FLAT))
    with pytest.raises(InvalidValueError, match="country code"):
        Zone(code="us", name="US", countries=("XX",), methods=(FLAT,))
