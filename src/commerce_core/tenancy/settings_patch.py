"""What an admin may change in a tenant's settings, and within which bounds.

A change is a JSON merge patch (RFC 7396) over ``ADMIN_FIELDS``: a field left out
stays, ``null`` puts it back to the product's default, an object (``segment_rules``)
is merged field by field. ``changes_of`` names what a patch really changes, with
dotted names for nested fields (``segment_rules.vip_min_orders``), so a patch that
changes nothing is seen as such and recorded nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from commerce_core.customers.segments import SegmentRules
from commerce_core.ordering.services import MAX_RESERVATION_MINUTES
from commerce_core.shared.bounds import MAX_AMOUNT
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import CURRENCY_EXPONENTS
from commerce_core.tenancy.ports.tenants import ADMIN_FIELDS, TenantSettings

MAX_AUTO_CANCEL_HOURS = 24 * 365
MAX_ACCEPTED_CURRENCIES = 32
MAX_COUNT = 1_000_000
MAX_DAYS = 36_500

Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]
Amount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT)]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
Days = Annotated[int, msgspec.Meta(ge=0, le=MAX_DAYS)]


class InvalidSettingError(InvalidValueError):
    """A setting that cannot take this value; ``field`` names it (dotted when nested)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SegmentRulesPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Changes of ``segment_rules``: see ``commerce_core.customers.segments.SegmentRules``."""

    currency: Currency | UnsetType | None = UNSET
    vip_min_lifetime_value: Amount | UnsetType | None = UNSET
    vip_min_orders: Count | UnsetType | None = UNSET
    high_value_min_first_order: Amount | UnsetType | None = UNSET
    new_customer_days: Days | UnsetType | None = UNSET
    at_risk_after_days: Days | UnsetType | None = UNSET


class SettingsPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A merge patch of the admin settings: absent stays, ``null`` resets to the default."""

    reservation_minutes: (
        Annotated[int, msgspec.Meta(ge=1, le=MAX_RESERVATION_MINUTES)] | UnsetType | None
    ) = UNSET
    auto_cancel_unpaid_hours: (
        Annotated[int, msgspec.Meta(ge=1, le=MAX_AUTO_CANCEL_HOURS)] | UnsetType | None
    ) = UNSET
    refund_approval_threshold: Amount | UnsetType | None = UNSET
    default_currency: Currency | UnsetType | None = UNSET
    accepted_currencies: (
        Annotated[list[Currency], msgspec.Meta(max_length=MAX_ACCEPTED_CURRENCIES)]
        | UnsetType
        | None
    ) = UNSET
    segment_rules: SegmentRulesPatch | UnsetType | None = UNSET


class SettingChange(msgspec.Struct, frozen=True, kw_only=True):
    """One field's change: its (dotted) name, and its JSON values before and after."""

    field: str
    old: Any
    new: Any


_AT = re.compile(r"(.*) - at `\$\.?(.*)`")


def parse_patch(document: Mapping[str, Any]) -> SettingsPatch:
    """A patch from a JSON-like mapping (the CLI's ``--set``); ``InvalidSettingError``
    naming the field for an unknown field, a wrong type or a value out of bounds."""
    try:
        return msgspec.convert(document, SettingsPatch)
    except msgspec.ValidationError as error:
        message, field = str(error), ""
        matched = _AT.fullmatch(message)
        if matched is not None:
            message, field = matched.group(1), matched.group(2)
        unknown = re.fullmatch(r"Object contains unknown field `(.*)`", message)
        if unknown is not None:
            field = f"{field}.{unknown.group(1)}" if field else unknown.group(1)
            message = "unknown setting"
        raise InvalidSettingError(field or "settings", message) from None


def admin_values(settings: TenantSettings) -> dict[str, Any]:
    """The admin fields of ``settings`` as JSON values."""
    document = msgspec.to_builtins(settings)
    return {name: document[name] for name in ADMIN_FIELDS}


def apply_patch(settings: TenantSettings, patch: SettingsPatch) -> TenantSettings:
    """``settings`` with the patch applied; ``InvalidSettingError`` for a combination
    that cannot hold (a default currency the tenant does not accept, a currency twice)."""
    defaults = TenantSettings()
    changes: dict[str, Any] = {}
    for name in ADMIN_FIELDS:
        value = getattr(patch, name)
        if value is UNSET:
            continue
        if value is None:
            changes[name] = getattr(defaults, name)
        elif name == "segment_rules":
            changes[name] = _patch_rules(settings.segment_rules, value)
        elif name == "accepted_currencies":
            changes[name] = tuple(value)
        else:
            changes[name] = value
    changed = msgspec.structs.replace(settings, **changes)
    check_settings(changed)
    return changed


def _patch_rules(rules: SegmentRules, patch: SegmentRulesPatch) -> SegmentRules:
    defaults = SegmentRules()
    changes = {
        f.name: getattr(defaults, f.name) if value is None else value
        for f in msgspec.structs.fields(SegmentRulesPatch)
        if (value := getattr(patch, f.name)) is not UNSET
    }
    return msgspec.structs.replace(rules, **changes)


def check_settings(settings: TenantSettings) -> None:
    """The rules between fields, and currencies that exist."""
    named = (
        ("default_currency", settings.default_currency),
        ("segment_rules.currency", settings.segment_rules.currency),
    )
    for field, currency in named:
        if currency not in CURRENCY_EXPONENTS:
            raise InvalidSettingError(field, f"{currency!r} is not an ISO 4217 currency code")
    accepted = settings.accepted_currencies
    for currency in accepted:
        if currency not in CURRENCY_EXPONENTS:
            raise InvalidSettingError(
                "accepted_currencies", f"{currency!r} is not an ISO 4217 currency code"
            )
    if len(set(accepted)) != len(accepted):
        raise InvalidSettingError("accepted_currencies", "names a currency twice")
    if accepted and settings.default_currency not in accepted:
        raise InvalidSettingError(
            "default_currency",
            f"{settings.default_currency} is not one of the accepted currencies"
            f" ({', '.join(accepted)}): accept it too, or choose one of those",
        )


def changes_of(old: TenantSettings, new: TenantSettings) -> list[SettingChange]:
    """What differs between the admin fields of ``old`` and ``new``, nested fields
    by their dotted names, in ``ADMIN_FIELDS`` order."""
    before, after = admin_values(old), admin_values(new)
    changes: list[SettingChange] = []
    for name in ADMIN_FIELDS:
        if isinstance(before[name], dict):
            changes.extend(
                SettingChange(field=f"{name}.{key}", old=before[name][key], new=value)
                for key, value in after[name].items()
                if before[name].get(key) != value
            )
        elif before[name] != after[name]:
            changes.append(SettingChange(field=name, old=before[name], new=after[name]))
    return changes
