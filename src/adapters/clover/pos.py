"""The POS port on Clover's REST v3 API (``httpx``), one connection per merchant.

A Clover merchant is one shop: its merchant id is the POS location id. Orders are pulled
with ``filter=modifiedTime>=<ms>``, oldest change first; the cursor is ``<ms>|<ids>``: the
last ``modifiedTime`` seen and the ids of the orders delivered with exactly that time,
dropped when they come again (a page asks for that many more), so a full page of equal times
still moves on, and an order changed since (a later time) is never skipped. Delivery stays at
least once: the pull is keyed by external id and version.

Clover has no idempotency keys (ADR 0042). A push is made exactly once by looking before
creating: the order we create carries ``note = "commerce-core push <key>"``; a retry finds
it by that note (``filter=note=...``), checks it is the same order (its title carries our
reference), and adds whatever line items are missing (an order is created, then its lines
added in one ``bulk_line_items`` call per 100 units). The caller must not push the same key
from two processes at once (the push process runs each intent once at a time).

Webhooks: Clover signs nothing; every delivery carries the app's auth code in
``X-Clover-Auth``, compared in constant time with the connection's stored code. The first
delivery to a new webhook URL is ``{"verificationCode": ...}`` with no auth code: the HTTP
route (``POST /webhooks/clover``) stores it for the operator and never passes it here.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.clover import mapping
from adapters.clover.calls import send
from commerce_core.channels.ports import (
    InvalidSignatureError,
    PosCount,
    PosEvent,
    PosEventKind,
    PosFulfilmentState,
    PosLocation,
    PosOrder,
    PosOrderDraft,
    PosOrderPage,
    PosRefusedError,
    PushedOrder,
    UnknownPosOrderError,
)

AUTH_HEADER = "x-clover-auth"
BULK_LIMIT = 100
"""Line items Clover takes in one ``bulk_line_items`` request."""
EXPAND = "lineItems,payments,refunds"
_EVENTS = {
    ("O", "CREATE"): PosEventKind.ORDER_CREATED,
    ("O", "UPDATE"): PosEventKind.ORDER_UPDATED,
    ("I", "CREATE"): PosEventKind.INVENTORY_UPDATED,
    ("I", "UPDATE"): PosEventKind.INVENTORY_UPDATED,
}


class CloverPos:
    name = "clover"

    def __init__(
        self,
        *,
        merchant_id: str,
        access_token: str,
        auth_code: str,
        base_url: str = "https://api.clover.com",
        timeout_seconds: float = 30.0,
    ) -> None:
        self.merchant_id = merchant_id
        self.auth_code = auth_code
        self._http = httpx.AsyncClient(
            base_url=f"{base_url}/v3/merchants/{merchant_id}",
            headers={"authorization": f"Bearer {access_token}", "accept": "application/json"},
            timeout=timeout_seconds,
        )

    async def _get(self, path: str, what: str, **params: str | int) -> Any:
        return await send(
            self._http, self._http.build_request("GET", path, params=params), what=what
        )

    async def _post(self, path: str, body: object, what: str) -> Any:
        request = self._http.build_request("POST", path, json=body)
        return await send(self._http, request, what=what)

    async def list_locations(self) -> list[PosLocation]:
        found = await self._get("", "reading the merchant")
        return [
            PosLocation(
                location_id=self.merchant_id,
                name=str(found.get("name") or self.merchant_id),
                active=True,
                currency=found.get("defaultCurrency"),
            )
        ]

    async def pull_orders(
        self, *, location_ids: list[str], cursor: str | None, limit: int = 100
    ) -> PosOrderPage:
        since, _, listed = (cursor or "0|").partition("|")
        seen = set(filter(None, listed.split(",")))
        if self.merchant_id not in location_ids:
            return PosOrderPage(orders=[], cursor=cursor or "0|", more=False)
        found = await self._get(
            "/orders",
            "listing orders",
            filter=f"modifiedTime>={int(since)}",
            expand=EXPAND,
            orderBy="modifiedTime ASC",
            limit=limit + len(seen),
        )
        elements = found.get("elements", [])
        orders = [
            mapping.order(element, self.merchant_id)
            for element in elements
            if not (
                int(element.get("modifiedTime", -1)) == int(since) and element.get("id") in seen
            )
        ][:limit]
        last = max((order.version for order in orders), default=int(since))
        at_last = {order.external_id for order in orders if order.version == last}
        if last == int(since):
            at_last |= seen
        more = len(elements) >= limit + len(seen)
        return PosOrderPage(orders=orders, cursor=f"{last}|{','.join(sorted(at_last))}", more=more)

    async def push_order(self, draft: PosOrderDraft, *, idempotency_key: str) -> PushedOrder:
        what = f"creating order {draft.reference_id}"
        if draft.location_id != self.merchant_id:
            raise PosRefusedError(f"no Clover location {draft.location_id!r}", "NOT_FOUND")
        existing = await self._pushed(idempotency_key, what)
        if (
            existing is not None
            and existing.get("title", "").rpartition(" [")[0] != draft.reference_id
        ):
            raise PosRefusedError(
                "this idempotency key was used for another order", "IDEMPOTENCY_KEY_REUSED"
            )
        created = existing or await self._post(
            "/orders", mapping.new_order(draft, idempotency_key), what
        )
        order_id = str(created["id"])
        units = mapping.unit_lines(draft)
        present = len(mapping.elements(created, "lineItems"))
        for start in range(present, len(units), BULK_LIMIT):
            await self._post(
                f"/orders/{order_id}/bulk_line_items",
                {"items": units[start : start + BULK_LIMIT]},
                what,
            )
        return PushedOrder(external_id=order_id, version=int(created["modifiedTime"]))

    async def _pushed(self, idempotency_key: str, what: str) -> dict[str, Any] | None:
        found = await self._get(
            "/orders", what, filter=f"note={mapping.PUSH_NOTE}{idempotency_key}", expand="lineItems"
        )
        elements = found.get("elements") or []
        return dict(elements[0]) if elements else None

    async def update_fulfilment(
        self, external_id: str, state: PosFulfilmentState, *, idempotency_key: str
    ) -> PushedOrder:
        what = f"updating order {external_id}"
        current = await self._order(external_id, what)
        if current.reference_id is None:
            raise PosRefusedError(f"Clover order {external_id} was not pushed by us", "NOT_OURS")
        wanted = mapping.title(current.reference_id, state)
        if current.fulfilment is state:  # already there: a repeat changes nothing
            return PushedOrder(external_id=external_id, version=current.version)
        updated = await self._post(f"/orders/{external_id}", {"title": wanted}, what)
        return PushedOrder(external_id=external_id, version=int(updated["modifiedTime"]))

    async def _order(self, external_id: str, what: str) -> PosOrder:
        if not external_id.isalnum():
            raise UnknownPosOrderError(f"no Clover order {external_id!r}", "NOT_FOUND")
        found = await self._get(f"/orders/{external_id}", what, expand=EXPAND)
        return mapping.order(found, self.merchant_id)

    async def push_counts(self, counts: list[PosCount], *, idempotency_key: str) -> None:
        """Clover has no batch: one ``item_stocks`` request per item. Counts are absolute,
        so a repeat after a lost answer sets the same numbers again."""
        for count in counts:
            if count.location_id != self.merchant_id:
                raise PosRefusedError(f"no Clover location {count.location_id!r}", "NOT_FOUND")
        for count in counts:
            await self._post(
                f"/item_stocks/{count.item_id}",
                {"quantity": count.quantity},
                f"setting the stock of {count.item_id}",
            )

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], notification_url: str
    ) -> list[PosEvent]:
        """The events for this merchant in a delivery carrying the app's auth code.
        ``notification_url`` is not used: Clover's code binds neither the URL nor the body."""
        given = {name.lower(): value for name, value in headers.items()}.get(AUTH_HEADER, "")
        if not (self.auth_code and hmac.compare_digest(given.encode(), self.auth_code.encode())):
            raise InvalidSignatureError("the X-Clover-Auth code does not match")
        try:
            payload = json.loads(body)
            updates = payload["merchants"].get(self.merchant_id, [])
            return [self._event(update) for update in updates]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise PosRefusedError("a Clover webhook we cannot read", "MALFORMED") from error

    def _event(self, update: dict[str, Any]) -> PosEvent:
        """``{"objectId": "O:<id>", "type": "CREATE|UPDATE|DELETE", "ts": <ms>}``: Clover
        gives no event id, so it is made of what names the change."""
        prefix, _, object_id = str(update["objectId"]).partition(":")
        kind = str(update["type"])
        stamp = int(update["ts"])
        return PosEvent(
            event_id=f"{self.merchant_id}:{prefix}:{object_id}:{kind}:{stamp}",
            kind=_EVENTS.get((prefix, kind), PosEventKind.OTHER),
            vendor_type=f"{prefix}:{kind}",
            merchant_id=self.merchant_id,
            occurred_at=datetime.fromtimestamp(stamp / 1000, tz=UTC),
            external_id=object_id if prefix == "O" else None,
            location_id=self.merchant_id,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
