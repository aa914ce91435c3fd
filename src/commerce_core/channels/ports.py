"""The POS port: what the channel sync asks of a point-of-sale system (ADR 0034).

Everything a POS answers is normalised here (our money, our enums), so the sync use cases
never see a vendor's shapes. Ids the POS gives (orders, locations, items) stay opaque
strings: the tenant's connection maps POS locations and items to ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import msgspec

from commerce_core.shared.money import Money


class PosOrderState(StrEnum):
    """The POS's own state of a whole order (Square's ``Order.state``)."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELED = "canceled"
    DRAFT = "draft"


class PosFulfilmentState(StrEnum):
    """Where the POS says an order's fulfilment is (Square's ``FulfillmentState``);
    ``status_map`` translates to and from our order statuses."""

    PROPOSED = "proposed"
    RESERVED = "reserved"
    PREPARED = "prepared"
    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"


class PosFulfilmentKind(StrEnum):
    PICKUP = "pickup"
    SHIPMENT = "shipment"


class TenderKind(StrEnum):
    CARD = "card"
    CASH = "cash"
    OTHER = "other"


class PosLocation(msgspec.Struct, frozen=True, kw_only=True):
    location_id: str
    name: str
    active: bool
    currency: str | None = None


class PosLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a POS order. ``sku`` is ours when the line carries it (lines we pushed,
    items whose POS SKU is ours); ``item_id`` is the POS's own item (variation) id."""

    name: str
    quantity: int
    unit_price: Money
    total: Money
    sku: str | None = None
    item_id: str | None = None


class PosTender(msgspec.Struct, frozen=True, kw_only=True):
    """A payment taken at the till (recorded as an external payment when imported)."""

    tender_id: str
    kind: TenderKind
    amount: Money


class PosOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A POS order, normalised.

    ``version`` grows with every change the POS records: an importer that has seen
    ``(external_id, version)`` has nothing new to apply. ``reference_id`` is the id we gave
    an order we pushed (so it is never imported back as a new order); None for orders
    rung up at the till. ``refunded`` is what the POS has refunded so far."""

    external_id: str
    location_id: str
    state: PosOrderState
    version: int
    lines: list[PosLine]
    total: Money
    tax: Money
    discount: Money
    refunded: Money
    tenders: list[PosTender]
    created_at: datetime
    updated_at: datetime
    fulfilment: PosFulfilmentState | None = None
    reference_id: str | None = None


class PosOrderPage(msgspec.Struct, frozen=True, kw_only=True):
    """Orders changed since a cursor, oldest change first, and the cursor to ask with next.

    ``more`` says a next call would return more right away (a page was full)."""

    orders: list[PosOrder]
    cursor: str
    more: bool


class PosLineDraft(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    name: str
    quantity: int
    unit_price: Money


class PosOrderDraft(msgspec.Struct, frozen=True, kw_only=True):
    """An order placed on another channel, to show on the till at ``location_id``."""

    reference_id: str
    location_id: str
    lines: list[PosLineDraft]
    kind: PosFulfilmentKind
    recipient: str


class PushedOrder(msgspec.Struct, frozen=True, kw_only=True):
    external_id: str
    version: int


class PosCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many of a POS item are on hand at a POS location (an absolute count)."""

    item_id: str
    location_id: str
    quantity: int
    counted_at: datetime


class PosEventKind(StrEnum):
    ORDER_CREATED = "order_created"
    ORDER_UPDATED = "order_updated"
    FULFILMENT_UPDATED = "fulfilment_updated"
    INVENTORY_UPDATED = "inventory_updated"
    OTHER = "other"


class PosEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A verified webhook notification. ``event_id`` is the POS's own id: a redelivery or
    a replay carries the same one, so the webhook inbox takes it once."""

    event_id: str
    kind: PosEventKind
    vendor_type: str
    merchant_id: str
    occurred_at: datetime
    external_id: str | None = None
    location_id: str | None = None


class PosError(Exception):
    """The POS could not do what was asked. Carries the vendor's message when it sent one."""


class PosUnavailableError(PosError):
    """Retriable: no answer, a 5xx, a rate limit or an unreadable answer. An order push
    may or may not have happened: ask again with the same idempotency key."""

    def __init__(self, message: str, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PosRateLimitedError(PosUnavailableError):
    """The POS asked us to slow down (429)."""


class PosRefusedError(PosError):
    """The POS refused the request (4xx with its message): nothing changed, and asking
    again the same way will be refused again. ``code`` is the vendor's error code."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class UnknownPosOrderError(PosRefusedError):
    """The POS knows no order by this id."""


class InvalidSignatureError(PosError):
    """A webhook delivery whose signature does not match: it did not come from the POS
    (or was changed on the way). Nothing in it may be acted on."""


class PointOfSale(Protocol):
    """A point-of-sale system reached through one tenant's connection.

    - ``list_locations``: the POS's locations (to map to ours).
    - ``pull_orders``: orders at ``location_ids`` changed since ``cursor`` (None: from
      the start), oldest change first, at most ``limit``. Delivery is at least once: an
      order may come again (same or newer ``version``); importers key by external id.
    - ``push_order``: creates the order in the POS; the same ``idempotency_key`` again
      returns the order created the first time (never a second one).
    - ``update_fulfilment``: moves the order's fulfilment to ``state`` (idempotent by key).
    - ``push_counts``: sets absolute on-hand counts, in one batch (idempotent by key).
    - ``verify_webhook``: the events of a delivery whose signature (over ``body`` as
      received and the ``notification_url`` it was sent to) is the POS's, else
      ``InvalidSignatureError``.

    Errors: ``PosRefusedError`` (nothing happened; ``UnknownPosOrderError`` for an unknown
    id), ``PosUnavailableError`` (may be worth asking again; ``PosRateLimitedError``).
    """

    @property
    def name(self) -> str: ...

    async def list_locations(self) -> list[PosLocation]: ...

    async def pull_orders(
        self, *, location_ids: list[str], cursor: str | None, limit: int = 100
    ) -> PosOrderPage: ...

    async def push_order(self, draft: PosOrderDraft, *, idempotency_key: str) -> PushedOrder: ...

    async def update_fulfilment(
        self, external_id: str, state: PosFulfilmentState, *, idempotency_key: str
    ) -> PushedOrder: ...

    async def push_counts(self, counts: list[PosCount], *, idempotency_key: str) -> None: ...

    def verify_webhook(
        self, body: bytes, headers: Mapping[str, str], notification_url: str
    ) -> list[PosEvent]: ...
