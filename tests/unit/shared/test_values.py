"""Value objects: addresses, SKUs, quantities, order numbers, instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.values import (
    COUNTRY_CODES,
    Address,
    OrderNumber,
    Sku,
    SkuQuantity,
    check_aware,
    format_order_number,
    order_number_sequence,
    parse_order_number,
    parse_quantity,
    parse_sku,
)

HOME = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


def test_an_address_needs_a_name_line_city_postal_code_and_country() -> None:
    address = Address(**HOME)

    assert (address.line2, address.region) == (None, None)
    assert msgspec.json.decode(msgspec.json.encode(address), type=Address) == address


@pytest.mark.parametrize(
    "changes",
    [
        {"country": "gb"},
        {"country": "XX"},
        {"country": "GBR"},
        {"name": "  "},
        {"line1": ""},
        {"city": "x" * 201},
        {"postal_code": ""},
        {"line2": "x" * 201},
    ],
)
def test_an_address_with_a_missing_field_or_unknown_country_is_refused(
    changes: dict[str, str],
) -> None:
    with pytest.raises(InvalidValueError):
        Address(**{**HOME, **changes})


def test_decoding_a_bad_address_from_json_is_a_validation_error() -> None:
    body = msgspec.json.encode({**HOME, "country": "UK"})

    with pytest.raises(msgspec.ValidationError, match="ISO 3166-1"):
        msgspec.json.decode(body, type=Address)


def test_the_country_list_is_iso_3166_alpha_2() -> None:
    assert len(COUNTRY_CODES) == 249
    assert {"US", "DE", "JP", "BR", "ZA", "AX", "SS", "CW"} <= COUNTRY_CODES
    assert not {"UK", "EU", "XK", "AN"} & COUNTRY_CODES


@pytest.mark.parametrize("value", ["A", "MUG-1", "tee_m.blue", "9" * 64])
def test_skus_are_short_url_safe_names(value: str) -> None:
    assert parse_sku(value) == Sku(value)


@pytest.mark.parametrize("value", ["", "-MUG", "mug 1", "mug/1", "9" * 65, "mügg"])
def test_other_skus_are_refused(value: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_sku(value)


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2"])
def test_a_quantity_is_a_positive_integer(value: object) -> None:
    assert parse_quantity(3) == 3
    with pytest.raises(InvalidValueError):
        parse_quantity(value)  # type: ignore[arg-type]


def test_a_sku_quantity_checks_both_parts() -> None:
    assert SkuQuantity(Sku("MUG-1"), 2).quantity == 2
    with pytest.raises(InvalidValueError):
        SkuQuantity(Sku("MUG-1"), 0)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"sku": "bad sku", "quantity": 1}', type=SkuQuantity)


def test_order_numbers_are_zero_padded_and_grow_past_six_digits() -> None:
    assert format_order_number(123) == "ORD-000123"
    assert format_order_number(1_234_567) == "ORD-1234567"
    assert parse_order_number("ORD-000123") == OrderNumber("ORD-000123")
    assert order_number_sequence(OrderNumber("ORD-1234567")) == 1_234_567


@pytest.mark.parametrize("value", ["ORD-123", "ORD-000000", "ORD-0001234", "ord-000123", "123"])
def test_malformed_order_numbers_are_refused(value: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_order_number(value)


@pytest.mark.parametrize("sequence", [0, -1, True])
def test_order_number_sequences_start_at_one(sequence: int) -> None:
    with pytest.raises(InvalidValueError):
        format_order_number(sequence)


def test_instants_must_be_timezone_aware() -> None:
    at = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2)))

    assert check_aware(at) is at
    assert check_aware(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidValueError):
        check_aware(datetime(2026, 1, 1))
