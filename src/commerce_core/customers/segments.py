"""Customer segments: their names and a tenant's thresholds (evaluated in ``projections``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from commerce_core.shared.money import check_currency

VIP = "vip"
HIGH_VALUE_NEW = "high_value_new"
AT_RISK = "at_risk"
SEGMENTS = (VIP, HIGH_VALUE_NEW, AT_RISK)
"""Every segment, in the order ``segments_for`` lists them."""

NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class SegmentRules(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A tenant's thresholds (the defaults are the product's; tenants may override any).

    - ``vip``: lifetime value above ``vip_min_lifetime_value`` and at least
      ``vip_min_orders`` orders.
    - ``high_value_new``: first order's total above ``high_value_min_first_order``,
      and that first order at most ``new_customer_days`` days ago.
    - ``at_risk``: has ordered, but the last order is more than
      ``at_risk_after_days`` days ago.
    """

    currency: str = "USD"
    vip_min_lifetime_value: NonNegative = 100_000
    vip_min_orders: NonNegative = 10
    high_value_min_first_order: NonNegative = 10_000
    new_customer_days: NonNegative = 30
    at_risk_after_days: NonNegative = 90

    def __post_init__(self) -> None:
        check_currency(self.currency)
