"""Where an order came from: marketing attribution and the outside channel it was imported from.

Both travel inside ``Order.Placed``, so they do not validate on decode (an old
event stays readable if a bound tightens); ``check_attribution`` and
``ImportedFrom`` checks guard what goes in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from commerce_core.shared.errors import InvalidValueError

MAX_ATTRIBUTION_TEXT = 200
MAX_ATTRIBUTION_URL = 2000
_URL_FIELDS = frozenset({"referrer", "landing_page"})


class Attribution(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """UTM parameters and referral of an order, all optional.

    ``source``/``medium``/``campaign``/``term``/``content`` are the ``utm_*`` values;
    ``referrer`` and ``landing_page`` URLs as the shop saw them; ``gbp_location_id``
    the Google Business Profile location or listing the order is attributed to."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None
    referrer: str | None = None
    landing_page: str | None = None
    gbp_location_id: str | None = None


def check_attribution(attribution: Attribution | None) -> None:
    """Raises ``InvalidValueError`` for an empty or too long attribution value."""
    if attribution is None:
        return
    for name in attribution.__struct_fields__:
        value = getattr(attribution, name)
        if value is None:
            continue
        limit = MAX_ATTRIBUTION_URL if name in _URL_FIELDS else MAX_ATTRIBUTION_TEXT
        if not 0 < len(value) <= limit or not value.isprintable():
            raise InvalidValueError(f"attribution.{name} must be 1-{limit} printable characters")


class ImportChannel(StrEnum):
    """The channels without an adapter whose orders arrive by ``POST /channels/{channel}/orders``:
    Google Business Profile and marketplaces (``other`` for one not named yet)."""

    GBP = "gbp"
    AMAZON = "amazon"
    EBAY = "ebay"
    ETSY = "etsy"
    WALMART = "walmart"
    OTHER = "other"


class ImportedFrom(msgspec.Struct, frozen=True, kw_only=True):
    """The outside order an imported order is: its channel and id there, when it was placed
    there, a digest of what was imported (a different body for the same id is refused) and
    the import request that created it (so that request alone answers 201)."""

    channel: ImportChannel
    external_id: str
    placed_at: datetime
    digest: str
    request_id: str
