"""Square's order shapes read into the POS port's, and ours written as Square's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from square.types.money import Money as SquareMoney
from square.types.order import Order
from square.types.order_line_item import OrderLineItem

from commerce_core.channels.ports import (
    PosError,
    PosFulfilmentState,
    PosLine,
    PosOrder,
    PosOrderDraft,
    PosOrderState,
    PosTender,
    TenderKind,
)
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money

SKU_KEY = "sku"
"""The line item metadata key that carries our SKU on lines we push."""

_TENDERS = {"CARD": TenderKind.CARD, "CASH": TenderKind.CASH}
_REFUND_DONE = {"PENDING", "APPROVED", "COMPLETED"}


def money(found: SquareMoney | None, currency: str) -> Money:
    if found is None or found.amount is None:
        return Money.zero(currency)
    try:
        return Money(int(found.amount), str(found.currency or currency))
    except InvalidValueError as error:
        raise PosError(f"Square sent an amount we cannot take: {error}") from error


def order(found: Order) -> PosOrder:
    """A Square order, normalised. Refuses (``PosError``) what we cannot represent: a
    fractional quantity (an item sold by weight)."""
    currency = str(found.total_money.currency) if found.total_money else "USD"
    lines = [_line(item, currency) for item in found.line_items or []]
    refunds = [
        money(refund.amount_money, currency)
        for refund in found.refunds or []
        if refund.status in _REFUND_DONE
    ]
    fulfilments = found.fulfillments or []
    return PosOrder(
        external_id=str(found.id),
        location_id=found.location_id,
        state=PosOrderState(str(found.state or "OPEN").lower()),
        version=found.version or 1,
        lines=lines,
        total=money(found.total_money, currency),
        tax=money(found.total_tax_money, currency),
        discount=money(found.total_discount_money, currency),
        refunded=sum(refunds, Money.zero(currency)),
        tenders=[
            PosTender(
                tender_id=str(tender.id),
                kind=_TENDERS.get(str(tender.type), TenderKind.OTHER),
                amount=money(tender.amount_money, currency),
            )
            for tender in found.tenders or []
        ],
        created_at=_instant(found.created_at),
        updated_at=_instant(found.updated_at),
        fulfilment=(
            PosFulfilmentState(str(fulfilments[0].state).lower())
            if fulfilments and fulfilments[0].state
            else None
        ),
        reference_id=found.reference_id,
    )


def _line(item: OrderLineItem, currency: str) -> PosLine:
    try:
        quantity = Decimal(item.quantity)
    except InvalidOperation as error:
        raise PosError(f"Square sent a quantity we cannot read: {item.quantity!r}") from error
    if quantity != quantity.to_integral_value():
        raise PosError(f"line {item.name!r} has a fractional quantity {item.quantity}")
    unit_price = money(item.base_price_money, currency)
    return PosLine(
        name=str(item.name or item.variation_name or ""),
        quantity=int(quantity),
        unit_price=unit_price,
        total=(
            money(item.total_money, currency) if item.total_money else unit_price * int(quantity)
        ),
        sku=(item.metadata or {}).get(SKU_KEY),
        item_id=item.catalog_object_id,
    )


def _instant(text: str | None) -> datetime:
    if not text:
        raise PosError("Square sent an order without its times")
    return datetime.fromisoformat(text)


def new_order(draft: PosOrderDraft) -> dict[str, Any]:
    """The ``order`` of a CreateOrder request for a draft (SKU in each line's metadata)."""
    recipient = {"display_name": draft.recipient}
    details = (
        {"pickup_details": {"recipient": recipient, "schedule_type": "ASAP"}}
        if draft.kind == "pickup"
        else {"shipment_details": {"recipient": recipient}}
    )
    return {
        "location_id": draft.location_id,
        "reference_id": draft.reference_id,
        "line_items": [
            {
                "name": line.name,
                "quantity": str(line.quantity),
                "base_price_money": {
                    "amount": line.unit_price.amount,
                    "currency": line.unit_price.currency,
                },
                "metadata": {SKU_KEY: line.sku},
            }
            for line in draft.lines
        ],
        "fulfillments": [{"type": draft.kind.value.upper(), "state": "PROPOSED", **details}],
    }
