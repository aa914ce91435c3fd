"""Queries on the order list read model (may lag commands by a moment)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from commerce_core.ordering.order.states import OrderStatus
from commerce_core.ordering.order.values import Channel


class OrderFilters(msgspec.Struct, frozen=True, kw_only=True):
    status: str | None = None
    customer_id: UUID | None = None
    channel: str | None = None
    number: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class OrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    number: str
    status: OrderStatus
    customer_id: UUID | None
    currency: str
    total: int
    paid: int
    refunded: int
    channel: Channel | None
    created_at: datetime
    updated_at: datetime


def summary_of(row: Mapping[str, Any]) -> OrderSummary:
    """An order list row (as either read model stores it) as a summary."""
    return OrderSummary(
        id=row["order_id"],
        number=row["number"],
        status=OrderStatus(row["status"]),
        customer_id=row["customer_id"],
        currency=row["currency"],
        total=row["total"] or 0,
        paid=row["paid"] or 0,
        refunded=row["refunded"] or 0,
        channel=None if row["channel"] is None else Channel(row["channel"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class Cursor(msgspec.Struct, frozen=True, array_like=True):
    """Where a page ended: the last row's (created_at, id); the next page starts after it."""

    created_at: datetime
    id: UUID


class OrderPage(msgspec.Struct, frozen=True):
    items: list[OrderSummary]
    next_cursor: Cursor | None


class OrderQueries(Protocol):
    """The tenant's orders, newest first, filtered, one page at a time."""

    async def list_orders(
        self, tenant_id: str, filters: OrderFilters, limit: int, after: Cursor | None
    ) -> OrderPage: ...
