"""Clover's order shapes read into the POS port's, and ours written as Clover's.

Clover keeps money in integer cents and times in epoch milliseconds. It has no order
versions: ``modifiedTime`` grows with every change, so it is the version. It has no
fulfilment states either (an order is ``open`` or ``locked``): an order we push carries our
fulfilment state in its title, ``"<our reference> [<state>]"``, which the till shows and
staff may edit; a title ending in ``[<state>]`` is read back as that state. Clover rings a
quantity of two as two line items: adjacent line items of the same item, name, price and
code are read as one line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

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

PUSH_NOTE = "commerce-core push "
"""The note of an order we pushed, followed by the push's idempotency key: what a retried
push looks for before creating (Clover has no idempotency keys)."""
UNIT = 1000
"""Clover's ``unitQty`` is in thousandths (an item sold by weight)."""

_TITLE = re.compile(r"^(?P<reference>.*) \[(?P<state>[a-z]+)\]$")
_TENDERS = {
    "com.clover.tender.cash": TenderKind.CASH,
    "com.clover.tender.credit_card": TenderKind.CARD,
    "com.clover.tender.debit_card": TenderKind.CARD,
}
_PAID = {"PAID", "REFUNDED", "PARTIALLY_REFUNDED"}


def title(reference_id: str, state: PosFulfilmentState) -> str:
    return f"{reference_id} [{state.value}]"


def order(found: dict[str, Any], merchant_id: str) -> PosOrder:
    """A Clover order (``expand=lineItems,payments,refunds``), normalised. Refuses
    (``PosError``) what we cannot represent: a fractional quantity, a malformed order."""
    try:
        return _order(found, merchant_id)
    except (KeyError, TypeError, ValueError, InvalidValueError) as error:
        raise PosError(f"Clover sent an order we cannot read: {error!r}") from error


def _order(found: dict[str, Any], merchant_id: str) -> PosOrder:
    currency = str(found.get("currency") or "USD")
    lines = _lines(elements(found, "lineItems"), currency)
    payments = [
        payment
        for payment in elements(found, "payments")
        if payment.get("result", "SUCCESS") == "SUCCESS"
    ]
    refunded = sum(int(refund.get("amount", 0)) for refund in elements(found, "refunds"))
    ours = str(found.get("note") or "").startswith(PUSH_NOTE)
    matched = _TITLE.match(str(found.get("title") or ""))
    return PosOrder(
        external_id=str(found["id"]),
        location_id=merchant_id,
        state=_state(found),
        version=int(found["modifiedTime"]),
        lines=lines,
        total=Money(int(found.get("total") or 0), currency),
        tax=Money.zero(currency),
        discount=Money.zero(currency),
        refunded=Money(refunded, currency),
        tenders=[
            PosTender(
                tender_id=str(payment["id"]),
                kind=_TENDERS.get(
                    str((payment.get("tender") or {}).get("labelKey")), TenderKind.OTHER
                ),
                amount=Money(int(payment["amount"]), currency),
            )
            for payment in payments
        ],
        created_at=_instant(found["createdTime"]),
        updated_at=_instant(found["modifiedTime"]),
        fulfilment=_fulfilment(matched),
        reference_id=matched.group("reference") if ours and matched else None,
    )


def _state(found: dict[str, Any]) -> PosOrderState:
    if found.get("paymentState") in _PAID or found.get("state") == "locked":
        return PosOrderState.COMPLETED
    return PosOrderState.OPEN if found.get("state") == "open" else PosOrderState.DRAFT


def _fulfilment(matched: re.Match[str] | None) -> PosFulfilmentState | None:
    if matched is None:
        return None
    try:
        return PosFulfilmentState(matched.group("state"))
    except ValueError:
        return None


def _lines(items: list[dict[str, Any]], currency: str) -> list[PosLine]:
    lines: list[PosLine] = []
    previous: tuple[object, ...] | None = None
    for item in items:
        quantity, remainder = divmod(int(item.get("unitQty") or UNIT), UNIT)
        if remainder:
            raise PosError(f"line {item.get('name')!r} has a fractional quantity")
        price = Money(int(item["price"]), currency)
        item_id = (item.get("item") or {}).get("id")
        same = (item_id, item.get("name"), price, item.get("itemCode"))
        if same == previous:
            last = lines[-1]
            lines[-1] = PosLine(
                name=last.name,
                quantity=last.quantity + quantity,
                unit_price=price,
                total=last.total + price * quantity,
                sku=last.sku,
                item_id=last.item_id,
            )
        else:
            lines.append(
                PosLine(
                    name=str(item.get("name") or ""),
                    quantity=quantity,
                    unit_price=price,
                    total=price * quantity,
                    sku=item.get("itemCode"),
                    item_id=item_id,
                )
            )
        previous = same
    return lines


def elements(found: dict[str, Any], name: str) -> list[dict[str, Any]]:
    inner = found.get(name) or {}
    elements = inner.get("elements") if isinstance(inner, dict) else None
    return list(elements or [])


def _instant(millis: object) -> datetime:
    return datetime.fromtimestamp(int(str(millis)) / 1000, tz=UTC)


def millis(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def new_order(draft: PosOrderDraft, idempotency_key: str) -> dict[str, Any]:
    """The body of ``POST /v3/merchants/{mId}/orders`` (its documented fields only)."""
    return {
        "state": "open",
        "title": title(draft.reference_id, PosFulfilmentState.PROPOSED),
        "note": PUSH_NOTE + idempotency_key,
    }


def unit_lines(draft: PosOrderDraft) -> list[dict[str, Any]]:
    """One Clover line item per unit (as the till rings them), our SKU as ``itemCode``."""
    return [
        {"name": line.name, "price": line.unit_price.amount, "itemCode": line.sku}
        for line in draft.lines
        for _ in range(line.quantity)
    ]
