"""Delivery zones and their shipping methods (ADR 0029): where a tenant ships, and how.

A zone matches an address by country, then optionally by region and by postal-code
prefix. When several zones match, **the most specific wins**: a zone matched by a
postal prefix beats one matched by region, which beats one matched by country only;
between two postal matches the longer prefix wins. Two zones that could tie for some
address are refused when the second is put (``overlap``), so the winner is always one.

A method is priced either by the zone (``price``) or by a carrier's live rate
(``carrier`` + ``service``, plus an optional ``handling_fee``); ``free_over``,
``min_subtotal`` and ``max_weight_grams`` decide whether and at what price it is
offered (``commerce_core.fulfilment.pricing``).
"""

from __future__ import annotations

import re

import msgspec

from commerce_core.shared.bounds import MAX_AMOUNT, check_at_most
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import COUNTRY_CODES, Address

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
"""Zone and method codes: 1 to 32 lower-case letters, digits, ``_`` or ``-``."""
REGION_PATTERN = r"^[A-Z0-9]{1,3}$"
"""The subdivision part of ISO 3166-2 (``CA`` of ``US-CA``)."""
POSTAL_PREFIX_PATTERN = r"^[A-Z0-9]{1,10}$"
CARRIER_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
SERVICE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

MAX_COUNTRIES = len(COUNTRY_CODES)
MAX_REGIONS = 200
MAX_POSTAL_PREFIXES = 1000
MAX_METHODS = 20
MAX_NAME = 100
MAX_WEIGHT_GRAMS = 1_000_000
"""A parcel or a product: at most 1,000 kg (a method's ``max_weight_grams`` too)."""
MAX_DELIVERY_DAYS = 365


def _check_code(what: str, code: str, pattern: str = CODE_PATTERN) -> None:
    if not re.fullmatch(pattern, code):
        raise InvalidValueError(f"{what} {code!r} does not match {pattern}")


def _check_name(what: str, name: str) -> None:
    if not name.strip() or len(name) > MAX_NAME:
        raise InvalidValueError(f"{what} needs a name of 1 to {MAX_NAME} characters")


def postal_key(postal_code: str) -> str:
    """A postal code as prefixes match it: upper case, without spaces or dashes."""
    return re.sub(r"[\s-]", "", postal_code).upper()


class MethodSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One shipping method of a zone. Every amount it holds is in one currency (its
    ``currency``), so it is offered only for baskets in that currency; a carrier-priced
    method holding no amount is offered in any currency the carrier quotes in."""

    code: str
    name: str
    price: Money | None = None
    carrier: str | None = None
    service: str | None = None
    handling_fee: Money | None = None
    free_over: Money | None = None
    min_subtotal: Money | None = None
    max_weight_grams: int | None = None
    delivery_days: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        _check_code("method code", self.code)
        _check_name(f"method {self.code}", self.name)
        by_zone, by_carrier = self.price is not None, (self.carrier, self.service) != (None, None)
        if by_zone == by_carrier:
            raise InvalidValueError(
                f"method {self.code} needs either a price or a carrier and a service"
            )
        if by_carrier:
            if self.carrier is None or self.service is None:
                raise InvalidValueError(f"method {self.code} needs both a carrier and a service")
            _check_code("carrier", self.carrier, CARRIER_PATTERN)
            _check_code("service", self.service, SERVICE_PATTERN)
        elif self.handling_fee is not None:
            raise InvalidValueError(
                f"method {self.code}: a handling_fee goes with a carrier's rate; "
                "a zone-priced method includes it in its price"
            )
        amounts = {
            "price": self.price,
            "handling_fee": self.handling_fee,
            "free_over": self.free_over,
            "min_subtotal": self.min_subtotal,
        }
        currencies = {money.currency for money in amounts.values() if money is not None}
        if len(currencies) > 1:
            raise InvalidValueError(f"method {self.code} mixes currencies {sorted(currencies)}")
        for field, money in amounts.items():
            if money is not None:
                if money.is_negative:
                    raise InvalidValueError(f"method {self.code}: {field} cannot be negative")
                check_at_most(f"methods.{self.code}.{field}", money.amount, MAX_AMOUNT)
        if self.max_weight_grams is not None and not (
            0 < self.max_weight_grams <= MAX_WEIGHT_GRAMS
        ):
            raise InvalidValueError(
                f"method {self.code}: max_weight_grams is 1 to {MAX_WEIGHT_GRAMS}"
            )
        if self.delivery_days is not None:
            low, high = self.delivery_days
            if not 0 <= low <= high <= MAX_DELIVERY_DAYS:
                raise InvalidValueError(
                    f"method {self.code}: delivery_days is [min, max] with "
                    f"0 <= min <= max <= {MAX_DELIVERY_DAYS}"
                )

    @property
    def currency(self) -> str | None:
        """The currency of its amounts, or ``None`` when it holds none."""
        for money in (self.price, self.handling_fee, self.free_over, self.min_subtotal):
            if money is not None:
                return money.currency
        return None

    @property
    def carrier_priced(self) -> bool:
        return self.price is None


class Zone(msgspec.Struct, frozen=True, kw_only=True):
    """Where a tenant ships: countries, optionally narrowed to regions and postal-code
    prefixes, and the methods offered there. ``ship_from`` is where parcels leave from,
    which carriers need to rate them: required when a method is carrier-priced."""

    code: str
    name: str
    countries: tuple[str, ...]
    regions: tuple[str, ...] = ()
    postal_prefixes: tuple[str, ...] = ()
    methods: tuple[MethodSpec, ...] = ()
    ship_from: Address | None = None

    def __post_init__(self) -> None:
        _check_code("zone code", self.code)
        _check_name(f"zone {self.code}", self.name)
        self._check_places()
        if not 0 < len(self.methods) <= MAX_METHODS:
            raise InvalidValueError(f"zone {self.code} needs 1 to {MAX_METHODS} methods")
        codes = [method.code for method in self.methods]
        if len(set(codes)) != len(codes):
            raise InvalidValueError(f"zone {self.code} names a method code twice")
        if self.ship_from is None and any(m.carrier_priced for m in self.methods):
            raise InvalidValueError(
                f"zone {self.code} has carrier-priced methods: it needs a ship_from address"
            )

    def _check_places(self) -> None:
        lists = (
            ("countries", self.countries, MAX_COUNTRIES, 1),
            ("regions", self.regions, MAX_REGIONS, 0),
            ("postal_prefixes", self.postal_prefixes, MAX_POSTAL_PREFIXES, 0),
        )
        for field, values, most, least in lists:
            if not least <= len(values) <= most:
                raise InvalidValueError(f"zone {self.code}: {field} has {least} to {most} entries")
            if len(set(values)) != len(values):
                raise InvalidValueError(f"zone {self.code}: {field} repeats an entry")
        for country in self.countries:
            if country not in COUNTRY_CODES:
                raise InvalidValueError(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
        for region in self.regions:
            _check_code("region", region, REGION_PATTERN)
        for prefix in self.postal_prefixes:
            _check_code("postal prefix", prefix, POSTAL_PREFIX_PATTERN)

    def method(self, code: str) -> MethodSpec | None:
        return next((m for m in self.methods if m.code == code), None)

    def specificity(self, address: Address) -> tuple[int, int] | None:
        """How closely the zone matches ``address``: ``(length of the longest matching
        postal prefix, 1 if matched by region)``, compared as a tuple; ``None``: no match."""
        if address.country not in self.countries:
            return None
        if self.regions and (address.region or "").upper() not in self.regions:
            return None
        prefix = 0
        if self.postal_prefixes:
            key = postal_key(address.postal_code)
            prefix = max((len(p) for p in self.postal_prefixes if key.startswith(p)), default=0)
            if prefix == 0:
                return None
        return (prefix, 1 if self.regions else 0)


def overlap(a: Zone, b: Zone) -> str | None:
    """Why some address would match ``a`` and ``b`` equally closely (so neither would win),
    or ``None``. Equal closeness needs the same kind of match: both by region or both
    not, and both by the same postal prefix or both by none."""
    countries = set(a.countries) & set(b.countries)
    if not countries or bool(a.regions) != bool(b.regions):
        return None
    regions = set(a.regions) & set(b.regions)
    if a.regions and not regions:
        return None
    if bool(a.postal_prefixes) != bool(b.postal_prefixes):
        return None
    prefixes = set(a.postal_prefixes) & set(b.postal_prefixes)
    if a.postal_prefixes and not prefixes:
        return None
    where = [f"country {sorted(countries)[0]}"]
    if regions:
        where.append(f"region {sorted(regions)[0]}")
    if prefixes:
        where.append(f"postal prefix {sorted(prefixes)[0]}")
    return f"zones {a.code} and {b.code} both match {', '.join(where)} equally closely"


def zone_for(zones: list[Zone], address: Address) -> Zone | None:
    """The most specific zone matching ``address`` (see the module's rule), or ``None``."""
    best: tuple[tuple[int, int], Zone] | None = None
    for zone in zones:
        score = zone.specificity(address)
        if score is not None and (best is None or score > best[0]):
            best = (score, zone)
    return best[1] if best else None
