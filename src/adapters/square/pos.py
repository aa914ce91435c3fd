"""The POS port on Square: Orders, Inventory and Locations through the official SDK,
webhooks checked with Square's ``x-square-hmacsha256-signature`` scheme.

The pull cursor is ``<updated_at start>|<Square page cursor>``: Square searches orders
updated at or after the start, oldest first, so the order at the boundary comes again
on the next pull (at least once; importers key by external id and version).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx
from square import AsyncSquare
from square.utils.webhooks_helper import verify_signature

from adapters.square import mapping
from adapters.square.calls import NO_RETRIES, call
from commerce_core.channels.ports import (
    InvalidSignatureError,
    PosCount,
    PosEvent,
    PosEventKind,
    PosFulfilmentState,
    PosLocation,
    PosOrderDraft,
    PosOrderPage,
    PosRefusedError,
    PushedOrder,
)

SIGNATURE_HEADER = "x-square-hmacsha256-signature"
EPOCH = "1970-01-01T00:00:00Z"
_EVENTS = {
    "order.created": PosEventKind.ORDER_CREATED,
    "order.updated": PosEventKind.ORDER_UPDATED,
    "order.fulfillment.updated": PosEventKind.FULFILMENT_UPDATED,
    "inventory.count.updated": PosEventKind.INVENTORY_UPDATED,
}


class SquarePos:
    name = "square"

    def __init__(
        self,
        *,
        access_token: str,
        signature_key: str,
        base_url: str = "https://connect.squareup.com",
        timeout_seconds: float = 30.0,
    ) -> None:
        self.signature_key = signature_key
        self._http = httpx.AsyncClient(timeout=timeout_seconds)
        self.client = AsyncSquare(token=access_token, base_url=base_url, httpx_client=self._http)

    async def list_locations(self) -> list[PosLocation]:
        found = await call(
            self.client.locations.list(request_options=NO_RETRIES), what="listing locations"
        )
        return [
            PosLocation(
                location_id=str(location.id),
                name=str(location.name or location.id),
                active=location.status == "ACTIVE",
                currency=location.currency,
            )
            for location in found.locations or []
        ]

    async def pull_orders(
        self, *, location_ids: list[str], cursor: str | None, limit: int = 100
    ) -> PosOrderPage:
        since, _, page = (cursor or f"{EPOCH}|").partition("|")
        found = await call(
            self.client.orders.search(
                location_ids=location_ids,
                query={
                    "filter": {"date_time_filter": {"updated_at": {"start_at": since}}},
                    "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
                },
                limit=limit,
                **({"cursor": page} if page else {}),
                request_options=NO_RETRIES,
            ),
            what="searching orders",
        )
        orders = [mapping.order(order) for order in found.orders or []]
        if found.cursor:
            return PosOrderPage(orders=orders, cursor=f"{since}|{found.cursor}", more=True)
        latest = max((order.updated_at for order in orders), default=None)
        return PosOrderPage(orders=orders, cursor=f"{_text(latest) or since}|", more=False)

    async def push_order(self, draft: PosOrderDraft, *, idempotency_key: str) -> PushedOrder:
        found = await call(
            self.client.orders.create(
                order=mapping.new_order(draft),
                idempotency_key=idempotency_key,
                request_options=NO_RETRIES,
            ),
            what=f"creating order {draft.reference_id}",
        )
        if found.order is None:
            raise PosRefusedError("Square created no order", "NO_ORDER")
        return PushedOrder(external_id=str(found.order.id), version=found.order.version or 1)

    async def update_fulfilment(
        self, external_id: str, state: PosFulfilmentState, *, idempotency_key: str
    ) -> PushedOrder:
        what = f"updating order {external_id}"
        current = await call(
            self.client.orders.get(order_id=external_id, request_options=NO_RETRIES), what=what
        )
        order = current.order
        if order is None or not order.fulfillments:
            raise PosRefusedError(f"Square order {external_id} has no fulfilment", "NO_FULFILLMENT")
        found = await call(
            self.client.orders.update(
                order_id=external_id,
                order={
                    "location_id": order.location_id,
                    "version": order.version,
                    "fulfillments": [
                        {"uid": order.fulfillments[0].uid, "state": state.value.upper()}
                    ],
                },
                idempotency_key=idempotency_key,
                request_options=NO_RETRIES,
            ),
            what=what,
        )
        if found.order is None:
            raise PosRefusedError(f"Square returned no order for {external_id}", "NO_ORDER")
        return PushedOrder(external_id=external_id, version=found.order.version or 1)

    async def push_counts(self, counts: list[PosCount], *, idempotency_key: str) -> None:
        await call(
            self.client.inventory.batch_create_changes(
                idempotency_key=idempotency_key,
                changes=[
                    {
                        "type": "PHYSICAL_COUNT",
                        "physical_count": {
                            "catalog_object_id": count.item_id,
                            "location_id": count.location_id,
                            "quantity": str(count.quantity),
                            "state": "IN_STOCK",
                            "occurred_at": _text(count.counted_at) or EPOCH,
                        },
                    }
                    for count in counts
                ],
                request_options=NO_RETRIES,
            ),
            what="changing inventory counts",
        )

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], notification_url: str
    ) -> list[PosEvent]:
        given = {name.lower(): value for name, value in headers.items()}.get(SIGNATURE_HEADER)
        try:
            text = body.decode()
        except UnicodeDecodeError as error:
            raise InvalidSignatureError("the webhook body is not UTF-8") from error
        if not given or not verify_signature(
            request_body=text,
            signature_header=given,
            signature_key=self.signature_key,
            notification_url=notification_url,
        ):
            raise InvalidSignatureError("the Square webhook signature does not match")
        try:
            return [_event(json.loads(text))]
        except (ValueError, KeyError, TypeError) as error:
            raise PosRefusedError("a signed Square webhook we cannot read", "MALFORMED") from error

    async def aclose(self) -> None:
        await self._http.aclose()


def _event(payload: dict[str, Any]) -> PosEvent:
    """Square's notification: ``data.object`` holds one entry named after the event
    (``order_updated``, ``order_fulfillment_updated``) with the order and location ids."""
    data = payload.get("data")
    details: dict[str, Any] = {}
    if isinstance(data, dict) and isinstance(data.get("object"), dict):
        inner: Any = next(iter(data["object"].values()), {})
        details = inner if isinstance(inner, dict) else {}
    vendor_type = str(payload["type"])
    order_id = details.get("order_id") or (data.get("id") if isinstance(data, dict) else None)
    return PosEvent(
        event_id=str(payload["event_id"]),
        kind=_EVENTS.get(vendor_type, PosEventKind.OTHER),
        vendor_type=vendor_type,
        merchant_id=str(payload["merchant_id"]),
        occurred_at=datetime.fromisoformat(str(payload["created_at"])),
        external_id=str(order_id) if order_id and vendor_type.startswith("order.") else None,
        location_id=str(details["location_id"]) if details.get("location_id") else None,
    )


def _text(instant: datetime | None) -> str | None:
    return instant.isoformat().replace("+00:00", "Z") if instant else None
