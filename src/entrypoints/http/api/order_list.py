"""GET /orders: the order list read model, newest first, with filters and cursor pages."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from commerce_core.ordering.order import Channel, OrderStatus
from commerce_core.ordering.ports.order_queries import Cursor, OrderFilters, OrderSummary
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of


def _instant(value: datetime | None, name: str) -> datetime | None:
    """The value, if it names an instant the database can hold (year 1 to 9999 in UTC)."""
    if value is not None and value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise problem(422, "validation-error", f"{name} is out of range") from None
    return value


class OrderListOut(msgspec.Struct):
    items: list[OrderSummary]
    next_cursor: str | None


def encode_cursor(cursor: Cursor | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def decode_cursor(raw: str | None) -> Cursor | None:
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        return msgspec.json.decode(base64.urlsafe_b64decode(padded), type=Cursor)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise problem(422, "validation-error", "cursor is not one this API returned") from None


class OrderListController(Controller):
    path = "/orders"
    tags = ["orders"]

    @get("/", summary="List orders", responses=query_problems())
    async def list_orders(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        status: OrderStatus | None = None,
        customer_id: UUID | None = None,
        channel: Channel | None = None,
        number: Annotated[str | None, Parameter(max_length=32)] = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> OrderListOut:
        """Order summaries from the read model (it may lag a command by a moment)."""
        filters = OrderFilters(
            status=None if status is None else str(status),
            customer_id=customer_id,
            channel=None if channel is None else str(channel),
            number=number,
            created_from=_instant(created_from, "created_from"),
            created_to=_instant(created_to, "created_to"),
        )
        page = await services.order_queries.list_orders(
            tenant_of(principal), filters, limit, decode_cursor(cursor)
        )
        return OrderListOut(page.items, encode_cursor(page.next_cursor))
