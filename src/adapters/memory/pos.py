"""A fake point of sale: locations, orders, fulfilment states and counts in memory.

No network, no credentials: unit tests and ``make run`` use it. ``ring_up`` and
``move_fulfilment`` are the tests' hands at the till; ``signed_delivery`` makes a webhook
delivery signed the way the fake checks it (HMAC-SHA256 over the notification URL and the
body, base64, as Square signs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

import msgspec

from commerce_core.channels.ports import (
    InvalidSignatureError,
    PosCount,
    PosEvent,
    PosEventKind,
    PosFulfilmentKind,
    PosFulfilmentState,
    PosLine,
    PosLocation,
    PosOrder,
    PosOrderDraft,
    PosOrderPage,
    PosOrderState,
    PosRefusedError,
    PosTender,
    PushedOrder,
    TenderKind,
    UnknownPosOrderError,
)
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock

SIGNATURE_HEADER = "x-fake-pos-signature"


def sign(key: str, notification_url: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), notification_url.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class FakePos:
    name = "fake"

    def __init__(
        self,
        clock: Clock,
        *,
        locations: list[PosLocation] | None = None,
        signature_key: str = "fake-signature-key",
    ) -> None:
        self.clock = clock
        self.signature_key = signature_key
        self.locations = locations or [
            PosLocation(location_id="L1", name="Main street", active=True, currency="USD")
        ]
        self.orders: dict[str, PosOrder] = {}
        self.kinds: dict[str, PosFulfilmentKind] = {}
        self.changed: dict[str, int] = {}  # order id -> sequence number of its last change
        self.counts: dict[tuple[str, str], int] = {}  # (item, location) -> on hand
        self._sequence = 0
        self._pushed: dict[str, tuple[PosOrderDraft, str]] = {}
        self._updates: dict[str, PushedOrder] = {}
        self._count_keys: dict[str, list[PosCount]] = {}

    async def list_locations(self) -> list[PosLocation]:
        return list(self.locations)

    async def pull_orders(
        self, *, location_ids: list[str], cursor: str | None, limit: int = 100
    ) -> PosOrderPage:
        after = int(cursor or 0)
        changed = sorted(
            (sequence, order_id)
            for order_id, sequence in self.changed.items()
            if sequence > after and self.orders[order_id].location_id in location_ids
        )
        page = changed[:limit]
        last = page[-1][0] if page else after
        return PosOrderPage(
            orders=[self.orders[order_id] for _, order_id in page],
            cursor=str(last),
            more=len(changed) > limit,
        )

    async def push_order(self, draft: PosOrderDraft, *, idempotency_key: str) -> PushedOrder:
        if idempotency_key in self._pushed:
            earlier, order_id = self._pushed[idempotency_key]
            if earlier != draft:
                raise PosRefusedError(
                    "this idempotency key was used for another order", "IDEMPOTENCY_KEY_REUSED"
                )
            return _pushed(self.orders[order_id])
        self._check_location(draft.location_id)
        lines = [
            PosLine(
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                total=line.unit_price * line.quantity,
                sku=line.sku,
            )
            for line in draft.lines
        ]
        order = self._new_order(draft.location_id, lines, [], reference_id=draft.reference_id)
        self.kinds[order.external_id] = draft.kind
        self._pushed[idempotency_key] = (draft, order.external_id)
        return _pushed(order)

    async def update_fulfilment(
        self, external_id: str, state: PosFulfilmentState, *, idempotency_key: str
    ) -> PushedOrder:
        if idempotency_key in self._updates:
            return self._updates[idempotency_key]
        order = self._order(external_id)
        if order.fulfilment is None:
            raise PosRefusedError(f"order {external_id} has no fulfilment", "BAD_REQUEST")
        self.move_fulfilment(external_id, state)
        self._updates[idempotency_key] = _pushed(self.orders[external_id])
        return self._updates[idempotency_key]

    async def push_counts(self, counts: list[PosCount], *, idempotency_key: str) -> None:
        if idempotency_key in self._count_keys:
            return
        for count in counts:
            self._check_location(count.location_id)
            if count.quantity < 0:
                raise PosRefusedError("a count cannot be negative", "INVALID_VALUE")
        self._count_keys[idempotency_key] = counts
        for count in counts:
            self.counts[(count.item_id, count.location_id)] = count.quantity

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], notification_url: str
    ) -> list[PosEvent]:
        given = {name.lower(): value for name, value in headers.items()}.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(given, sign(self.signature_key, notification_url, body)):
            raise InvalidSignatureError("the webhook signature does not match")
        payload = json.loads(body)
        return [
            PosEvent(
                event_id=payload["event_id"],
                kind=PosEventKind(payload["kind"]),
                vendor_type=payload["kind"],
                merchant_id=payload.get("merchant_id", "fake-merchant"),
                occurred_at=datetime.fromisoformat(payload["occurred_at"]),
                external_id=payload.get("external_id"),
                location_id=payload.get("location_id"),
            )
        ]

    # The tests' hands at the till.

    def ring_up(
        self,
        location_id: str,
        lines: list[tuple[str, int, Money]],
        *,
        paid_by: TenderKind = TenderKind.CASH,
        kind: PosFulfilmentKind = PosFulfilmentKind.PICKUP,
    ) -> PosOrder:
        """A sale at the till: ``(sku, quantity, unit price)`` lines, paid in full."""
        order_lines = [
            PosLine(name=sku, quantity=n, unit_price=price, total=price * n, sku=sku, item_id=sku)
            for sku, n, price in lines
        ]
        total = sum((line.total for line in order_lines[1:]), order_lines[0].total)
        tender = PosTender(tender_id=f"T{self._sequence + 1}", kind=paid_by, amount=total)
        order = self._new_order(location_id, order_lines, [tender], reference_id=None)
        self.kinds[order.external_id] = kind
        return order

    def move_fulfilment(self, external_id: str, state: PosFulfilmentState) -> PosOrder:
        order = self._order(external_id)
        closed = {
            PosFulfilmentState.COMPLETED: PosOrderState.COMPLETED,
            PosFulfilmentState.CANCELED: PosOrderState.CANCELED,
        }
        return self._change(
            order, fulfilment=state, state=closed.get(state, order.state), version=order.version + 1
        )

    def signed_delivery(
        self, notification_url: str, event: PosEvent
    ) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "event_id": event.event_id,
                "kind": event.kind.value,
                "merchant_id": event.merchant_id,
                "occurred_at": event.occurred_at.isoformat(),
                "external_id": event.external_id,
                "location_id": event.location_id,
            }
        ).encode()
        return body, {SIGNATURE_HEADER: sign(self.signature_key, notification_url, body)}

    def _new_order(
        self,
        location_id: str,
        lines: list[PosLine],
        tenders: list[PosTender],
        *,
        reference_id: str | None,
    ) -> PosOrder:
        self._check_location(location_id)
        currency = lines[0].unit_price.currency
        zero = Money.zero(currency)
        now = self.clock.now()
        order = PosOrder(
            external_id=f"FAKE-{len(self.orders) + 1}",
            location_id=location_id,
            state=PosOrderState.COMPLETED if tenders else PosOrderState.OPEN,
            version=1,
            lines=lines,
            total=sum((line.total for line in lines), zero),
            tax=zero,
            discount=zero,
            refunded=zero,
            tenders=tenders,
            created_at=now,
            updated_at=now,
            fulfilment=PosFulfilmentState.PROPOSED,
            reference_id=reference_id,
        )
        return self._store(order)

    def _change(self, order: PosOrder, **changes: object) -> PosOrder:
        return self._store(msgspec.structs.replace(order, updated_at=self.clock.now(), **changes))

    def _store(self, order: PosOrder) -> PosOrder:
        self._sequence += 1
        self.orders[order.external_id] = order
        self.changed[order.external_id] = self._sequence
        return order

    def _order(self, external_id: str) -> PosOrder:
        if external_id not in self.orders:
            raise UnknownPosOrderError(f"no POS order {external_id}", "NOT_FOUND")
        return self.orders[external_id]

    def _check_location(self, location_id: str) -> None:
        if location_id not in {location.location_id for location in self.locations}:
            raise PosRefusedError(f"no POS location {location_id}", "NOT_FOUND")


def _pushed(order: PosOrder) -> PushedOrder:
    return PushedOrder(external_id=order.external_id, version=order.version)
