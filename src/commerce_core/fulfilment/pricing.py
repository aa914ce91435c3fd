"""What a shipping method costs for a basket: pure rules, no carrier call in here.

In the order they apply to one method of the matched zone:

1. A method holding amounts in another currency than the basket's is not offered.
2. ``min_subtotal``: offered only when the subtotal (after discounts) is at least it.
3. ``max_weight_grams``: offered only when the basket's weight is known and at most it.
   A basket weighs the sum of ``weight_grams * quantity``; one product of unknown weight
   makes the basket's weight unknown, so weight-limited and carrier-priced methods (a
   carrier rates by weight) are not offered for it; zone-priced methods without a limit are.
4. The price: the zone's ``price``, or the carrier's rate for ``service`` plus
   ``handling_fee``.
5. ``free_over``: a basket whose subtotal (after discounts) is **at or over** it ships
   free; under it, it pays the price of 4.
"""

from __future__ import annotations

import msgspec

from commerce_core.fulfilment.zones import MethodSpec
from commerce_core.shared.bounds import MAX_AMOUNT, check_at_most
from commerce_core.shared.money import Money


class Basket(msgspec.Struct, frozen=True, kw_only=True):
    """What is being shipped, as pricing sees it: the subtotal after discounts and the
    weight in grams (``None``: some product's weight is unknown)."""

    subtotal: Money
    weight_grams: int | None


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    """A method offered for a basket, at ``price``."""

    method: MethodSpec
    price: Money
    delivery_days: tuple[int, int] | None


def refusal(method: MethodSpec, basket: Basket) -> str | None:
    """Why ``method`` is not offered for ``basket`` (rules 1-3), or ``None``."""
    currency = basket.subtotal.currency
    if method.currency not in (None, currency):
        return f"{method.code} is priced in {method.currency}, not {currency}"
    if method.min_subtotal is not None and basket.subtotal < method.min_subtotal:
        return f"{method.code} needs a subtotal of at least {method.min_subtotal}"
    if basket.weight_grams is None and (method.max_weight_grams or method.carrier_priced):
        return f"{method.code} needs every product's weight_grams"
    weight = basket.weight_grams or 0
    if method.max_weight_grams is not None and weight > method.max_weight_grams:
        return f"{method.code} takes at most {method.max_weight_grams} g, not {weight} g"
    return None


def offer(
    method: MethodSpec,
    basket: Basket,
    rate: Money | None = None,
    carrier_days: int | None = None,
) -> Offer:
    """The offer of a method ``refusal`` let through (rules 4-5). ``rate`` is the
    carrier's for a carrier-priced method (required then), ``carrier_days`` its estimate,
    used when the method states no ``delivery_days``."""
    currency = basket.subtotal.currency
    if method.price is not None:
        price = method.price
    else:
        if rate is None or rate.currency != currency:
            raise ValueError(f"method {method.code} needs the carrier's rate in {currency}")
        price = rate + (method.handling_fee or Money.zero(currency))
    if method.free_over is not None and basket.subtotal >= method.free_over:
        price = Money.zero(currency)
    check_at_most(f"shipping of {method.code}", price.amount, MAX_AMOUNT)
    days = method.delivery_days
    if days is None and carrier_days is not None:
        days = (carrier_days, carrier_days)
    return Offer(method=method, price=price, delivery_days=days)
