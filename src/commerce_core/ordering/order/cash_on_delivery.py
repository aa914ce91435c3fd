"""What the courier collects for each shipment of a cash-on-delivery order.

Each shipment collects its lines' share of the order's total:

- The total is split over the order's lines in proportion to the lines' totals
  (``Money.allocate``), so shipping, which no line owns, is spread the same way
  and the lines' amounts add up to the total exactly.
- A line's amount is spread over its units cumulatively: its first ``n`` units
  are worth ``amount * n / quantity``, rounded half to even. Units go to
  shipments in the order the shipments were made, so a shipment carrying units
  ``a`` up to ``b`` of a line takes ``worth(b) - worth(a)``. A shipment's share
  never changes when more shipments are made, and the shares of a fully
  shipped order add up to its total, to the minor unit.

``cash_due`` caps a share by what the order still owes and lets the collection
that settles the order's last shipment take all that is still owed, so an order
that also took cash by hand in between is still paid exactly its total.
"""

from __future__ import annotations

from collections.abc import Sequence

from commerce_core.ordering.order.order import Order
from commerce_core.shared.money import Money, round_half_even
from commerce_core.shared.values import Sku, SkuQuantity


def shipment_shares(order: Order, shipments: Sequence[Sequence[SkuQuantity]]) -> list[Money]:
    """Each shipment's share of the order's total; ``shipments`` (their lines) in the order
    they were made."""
    weights = [max(line.total.amount, 0) for line in order.lines]
    if not any(weights):
        weights = [line.quantity for line in order.lines]  # free goods: shipping by units
    amounts = order.totals.total.allocate(weights)
    line_amounts = {
        line.sku: (amount, line.quantity) for line, amount in zip(order.lines, amounts, strict=True)
    }
    sent: dict[Sku, int] = {}
    shares = []
    for lines in shipments:
        share = Money.zero(order.currency)
        for item in lines:
            amount, quantity = line_amounts[item.sku]
            before = sent.get(item.sku, 0)
            sent[item.sku] = before + item.quantity
            share += _worth(amount, quantity, before + item.quantity) - _worth(
                amount, quantity, before
            )
        shares.append(share)
    return shares


def cash_due(order: Order, share: Money, *, settles: bool) -> Money:
    """What one shipment's collection takes: its ``share``, at most what the order owes;
    everything the order owes when this collection ``settles`` its last shipment."""
    owed = order.outstanding.max(Money.zero(order.currency))
    return owed if settles else share.min(owed)


def _worth(amount: Money, quantity: int, units: int) -> Money:
    """What the first ``units`` of a line of ``quantity`` units worth ``amount`` are worth."""
    return Money(round_half_even(amount.amount * min(units, quantity), quantity), amount.currency)
