"""Queries on the list read models: customers, products and payments, one page at a time.

Each list is ordered by a key that ends with a unique column, and a page ends
with a cursor naming its last row, so walking the pages gives every row once
(rows added meanwhile after the cursor appear, those before it do not). Read
models may lag commands by a moment. Customers' personal data comes back sealed
as stored; ``projections.customer_search`` opens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec

from commerce_core.projections.customer_metrics import CustomerMetrics


class CustomerFilters(msgspec.Struct, frozen=True, kw_only=True):
    """``email_index``/``tag_index``: blind indexes; ``ids``: only these customers."""

    email_index: str | None = None
    tag_index: str | None = None
    ids: frozenset[UUID] | None = None


class CustomerRow(msgspec.Struct, frozen=True, kw_only=True):
    """A customer list row: ``email``, ``name`` and ``tags`` still sealed (JSON)."""

    customer_id: UUID
    status: str
    email: Any
    name: Any
    tags: list[Any]
    created_at: datetime


class CreatedCursor(msgspec.Struct, frozen=True, array_like=True):
    """Where a page ordered by (created_at, id) ended."""

    created_at: datetime
    id: UUID


class CustomerRows(msgspec.Struct, frozen=True):
    rows: list[CustomerRow]
    next_cursor: CreatedCursor | None


class ProductSummary(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    name: str
    price: int
    currency: str
    tax_rate_bps: int
    updated_at: datetime


class ProductPage(msgspec.Struct, frozen=True):
    items: list[ProductSummary]
    next_cursor: str | None  # the last SKU of the page


class PaymentFilters(msgspec.Struct, frozen=True, kw_only=True):
    status: str | None = None
    order_id: UUID | None = None
    created_from: datetime | None = None  # included
    created_to: datetime | None = None  # excluded


class PaymentRow(msgspec.Struct, frozen=True, kw_only=True):
    payment_id: UUID
    order_id: UUID
    status: str
    created_at: datetime


class PaymentRows(msgspec.Struct, frozen=True):
    rows: list[PaymentRow]
    next_cursor: CreatedCursor | None


class ListQueries(Protocol):
    """The tenant's customers (oldest first), products (by SKU) and payments (newest first).

    ``customer_metrics`` gives the customers' metrics in ``currency`` by the rules of
    ``customer_metrics.activity_of``, the same as `GET /customers/{id}/analytics`:
    for ``customer_ids``, or for every customer with a counted order when None.
    """

    async def customers(
        self, tenant_id: str, filters: CustomerFilters, limit: int, after: CreatedCursor | None
    ) -> CustomerRows: ...

    async def customer_metrics(
        self, tenant_id: str, currency: str, customer_ids: Sequence[UUID] | None
    ) -> list[CustomerMetrics]: ...

    async def products(self, tenant_id: str, limit: int, after: str | None) -> ProductPage: ...

    async def payments(
        self, tenant_id: str, filters: PaymentFilters, limit: int, after: CreatedCursor | None
    ) -> PaymentRows: ...
