"""Value objects shared by orders, stock and shipments: addresses, SKUs, quantities, numbers.

Ids and simple values are ``NewType``s over JSON types with a ``parse_*``
function that validates; composite values are frozen msgspec structs that
validate in ``__post_init__``, so decoding a request body checks them too
(msgspec turns the ``ValueError`` into a validation error).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum, StrEnum
from typing import NewType, TypeVar

import msgspec

from commerce_core.shared.bounds import MAX_QUANTITY, check_at_most
from commerce_core.shared.errors import InvalidValueError

# ISO 3166-1 alpha-2: the officially assigned codes.
_COUNTRIES = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """
COUNTRY_CODES: frozenset[str] = frozenset(_COUNTRIES.split())

MAX_ADDRESS_FIELD = 200


def _required_text(field: str, value: str) -> None:
    if not value.strip() or len(value) > MAX_ADDRESS_FIELD:
        raise InvalidValueError(f"address {field} must have 1 to {MAX_ADDRESS_FIELD} characters")


class Address(msgspec.Struct, frozen=True, kw_only=True):
    """A postal address; ``country`` is an upper-case ISO 3166-1 alpha-2 code."""

    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        for field in ("name", "line1", "city", "postal_code"):
            _required_text(field, getattr(self, field))
        for field in ("line2", "region"):
            value = getattr(self, field)
            if value is not None and len(value) > MAX_ADDRESS_FIELD:
                raise InvalidValueError(f"address {field} is longer than {MAX_ADDRESS_FIELD}")
        if self.country not in COUNTRY_CODES:
            raise InvalidValueError(
                f"{self.country!r} is not an ISO 3166-1 alpha-2 country code (e.g. 'US')"
            )


Sku = NewType("Sku", str)
"""A stock-keeping unit: letters, digits, '.', '_' or '-', 1 to 64 characters, case-sensitive."""

# Also usable as msgspec.Meta(pattern=SKU_PATTERN) at the HTTP edge; SKUs appear in URLs.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$"
_SKU = re.compile(SKU_PATTERN)


def parse_sku(value: str) -> Sku:
    """The value as a ``Sku``, or ``InvalidValueError``."""
    if not isinstance(value, str) or not _SKU.fullmatch(value):
        raise InvalidValueError(
            f"invalid SKU {value!r}: 1-64 letters, digits, '.', '_' or '-', starting alphanumeric"
        )
    return Sku(value)


Quantity = NewType("Quantity", int)
"""A number of units: a positive integer, at most ``MAX_QUANTITY``."""


def parse_quantity(value: int) -> Quantity:
    """The value as a ``Quantity`` (a positive int, not a bool), or ``InvalidValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValueError(f"a quantity is a positive integer, not {value!r}")
    check_at_most("quantity", value, MAX_QUANTITY)
    return Quantity(value)


class SkuQuantity(msgspec.Struct, frozen=True):
    """So many units of one SKU: an order line to ship, reserve or restock."""

    sku: Sku
    quantity: int

    def __post_init__(self) -> None:
        parse_sku(self.sku)
        parse_quantity(self.quantity)


OrderNumber = NewType("OrderNumber", str)
"""An order's human number, unique per tenant: ``ORD-000123`` (at least six digits)."""

_ORDER_NUMBER = re.compile(r"ORD-(\d{6,})")


def format_order_number(sequence: int) -> OrderNumber:
    """``ORD-`` and the sequence, zero-padded to six digits (more digits past 999999)."""
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise InvalidValueError(f"order number sequences start at 1, not {sequence!r}")
    return OrderNumber(f"ORD-{sequence:06d}")


def parse_order_number(value: str) -> OrderNumber:
    """The value as an ``OrderNumber``, or ``InvalidValueError``."""
    match = _ORDER_NUMBER.fullmatch(value)
    sequence = int(match.group(1)) if match else 0
    if sequence < 1 or f"ORD-{sequence:06d}" != value:
        raise InvalidValueError(f"invalid order number {value!r}, expected e.g. 'ORD-000123'")
    return OrderNumber(value)


def order_number_sequence(number: OrderNumber) -> int:
    """The integer behind an order number: ``ORD-000123`` -> 123."""
    return int(number.removeprefix("ORD-"))


def check_aware(at: datetime) -> datetime:
    """Refuses naive datetimes: every instant in an event is timezone-aware."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidValueError("instants must be timezone-aware")
    return at


E = TypeVar("E", bound=Enum)


def parse_enum(kind: type[E], value: object) -> E:
    """``value`` as a member of ``kind`` (members and their values both work), or
    ``InvalidValueError``. Commands coerce first, so guards can compare with ``is``."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(member.value) for member in kind)
        raise InvalidValueError(f"{value!r} is not one of {choices}") from None


class PaymentMethod(StrEnum):
    """How a customer pays: the order names the method chosen, each payment the one it used."""

    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    CASH_ON_DELIVERY = "cash_on_delivery"
