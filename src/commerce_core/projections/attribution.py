"""Order attribution: one row per order with where it came from and the money it brought.

``order_attribution`` (tenant, order): the order's currency, sales channel (the channel it
was imported from, e.g. ``etsy``, else its own channel: ``web``, ``pos``, ``gbp``, ``api``),
UTM ``source``/``medium``/``campaign`` (NULL when not given), when it was placed (on the
channel, for an imported order), money received (``paid``) and given back (``refunded``:
refunds and lost disputes). ``GET /analytics/attribution`` groups these rows
(``attribution_report``); a rebuild replays the same events into the same rows.
"""

from __future__ import annotations

from typing import Any

from commerce_core.eventstore import RecordedEvent
from commerce_core.ordering.order import Order
from commerce_core.projections.changes import Change, Increment, Upsert
from commerce_core.projections.projection import Projection, topics
from commerce_core.projections.tables import Column, Index, TableSpec

Events: Any = Order  # the event classes are made by the @event decorator at run time

ORDER_ATTRIBUTION = "order_attribution"

TABLE = TableSpec(
    ORDER_ATTRIBUTION,
    key=("tenant_id", "order_id"),
    columns=[
        Column("tenant_id", "text"),
        Column("order_id", "uuid"),
        Column("currency", "text"),
        Column("channel", "text"),
        Column("source", "text"),
        Column("medium", "text"),
        Column("campaign", "text"),
        Column("placed_at", "timestamptz"),
        Column("paid", "int", default=0),
        Column("refunded", "int", default=0),
    ],
    indexes=[Index(("tenant_id", "currency", "placed_at"))],
)


class OrderAttribution(Projection):
    """Feeds ``AnalyticsQueries.attribution``."""

    name = "order_attribution"
    version = 1
    tables = (TABLE,)
    _wanted = topics(
        Events.Placed, Events.PaymentRecorded, Events.RefundRecorded, Events.DisputeClosed
    )
    reads: frozenset[str] | None = frozenset(
        {"attribution", "imported", "currency", "channel", "at", "amount", "charged_back"}
    )

    def wants(self, event_type: str) -> bool:
        return event_type in self._wanted

    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        key = {"tenant_id": event.metadata.tenant_id, "order_id": event.stream_id}
        if isinstance(decoded, Events.Placed):
            return [Upsert(ORDER_ATTRIBUTION, key, placed_values(decoded))]
        if isinstance(decoded, Events.PaymentRecorded):
            return [Increment(ORDER_ATTRIBUTION, key, {"paid": decoded.amount.amount})]
        if isinstance(decoded, Events.RefundRecorded):
            return [Increment(ORDER_ATTRIBUTION, key, {"refunded": decoded.amount.amount})]
        if isinstance(decoded, Events.DisputeClosed) and decoded.charged_back.amount:
            return [Increment(ORDER_ATTRIBUTION, key, {"refunded": decoded.charged_back.amount})]
        return []


def placed_values(placed: Any) -> dict[str, Any]:
    """The row's columns from an ``Order.Placed`` event (old ones carry no attribution)."""
    attribution = getattr(placed, "attribution", None)
    imported = getattr(placed, "imported", None)
    return {
        "currency": placed.currency,
        "channel": str(imported.channel if imported is not None else placed.channel),
        "source": None if attribution is None else attribution.source,
        "medium": None if attribution is None else attribution.medium,
        "campaign": None if attribution is None else attribution.campaign,
        "placed_at": placed.at if imported is None else imported.placed_at,
    }
