"""The list queries over the memory read model (same order and paging as PostgreSQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from adapters.memory.readmodel import MemoryReadModel
from commerce_core.projections.customer_list import TABLE as CUSTOMERS
from commerce_core.projections.customer_metrics import TABLE as CUSTOMER_ORDERS
from commerce_core.projections.customer_metrics import CustomerMetrics, activity_of
from commerce_core.projections.payment_list import TABLE as PAYMENTS
from commerce_core.projections.ports.lists import (
    CreatedCursor,
    CustomerFilters,
    CustomerRow,
    CustomerRows,
    PaymentFilters,
    PaymentRow,
    PaymentRows,
    ProductPage,
    ProductSummary,
)
from commerce_core.projections.product_list import TABLE as PRODUCTS


class MemoryListQueries:
    def __init__(self, read_model: MemoryReadModel) -> None:
        self._read_model = read_model

    async def customers(
        self, tenant_id: str, filters: CustomerFilters, limit: int, after: CreatedCursor | None
    ) -> CustomerRows:
        rows = [
            row
            for row in await self._rows(CUSTOMERS, tenant_id)
            if _customer_matches(row, filters)
            and (
                after is None
                or (row["created_at"], row["customer_id"]) > (after.created_at, after.id)
            )
        ]
        rows.sort(key=lambda r: (r["created_at"], r["customer_id"]))
        page = [
            CustomerRow(
                customer_id=r["customer_id"],
                status=r["status"],
                email=r["email"],
                name=r["name"],
                tags=r["tags"] or [],
                created_at=r["created_at"],
            )
            for r in rows[:limit]
        ]
        more = len(rows) > limit
        return CustomerRows(
            page, CreatedCursor(page[-1].created_at, page[-1].customer_id) if more else None
        )

    async def customer_metrics(
        self, tenant_id: str, currency: str, customer_ids: Sequence[UUID] | None
    ) -> list[CustomerMetrics]:
        by_customer: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
        for row in await self._rows(CUSTOMER_ORDERS, tenant_id):
            by_customer[row["customer_id"]].append(row)
        wanted = by_customer.keys() if customer_ids is None else customer_ids
        found = [activity_of(c, currency, by_customer.get(c, [])).metrics for c in wanted]
        return [m for m in found if m.total_orders > 0]

    async def products(self, tenant_id: str, limit: int, after: str | None) -> ProductPage:
        rows = sorted(
            (r for r in await self._rows(PRODUCTS, tenant_id) if after is None or r["sku"] > after),
            key=lambda r: str(r["sku"]),
        )
        items = [
            ProductSummary(
                sku=r["sku"],
                name=r["name"],
                price=r["price"] or 0,
                currency=r["currency"],
                tax_rate_bps=r["tax_rate_bps"] or 0,
                updated_at=r["updated_at"],
            )
            for r in rows[:limit]
        ]
        return ProductPage(items, items[-1].sku if len(rows) > limit else None)

    async def payments(
        self, tenant_id: str, filters: PaymentFilters, limit: int, after: CreatedCursor | None
    ) -> PaymentRows:
        rows = [
            r for r in await self._rows(PAYMENTS, tenant_id) if _payment_matches(r, filters, after)
        ]
        rows.sort(key=lambda r: (r["created_at"], r["payment_id"]), reverse=True)
        page = [
            PaymentRow(
                payment_id=r["payment_id"],
                order_id=r["order_id"],
                status=r["status"],
                created_at=r["created_at"],
            )
            for r in rows[:limit]
        ]
        more = len(rows) > limit
        return PaymentRows(
            page, CreatedCursor(page[-1].created_at, page[-1].payment_id) if more else None
        )

    async def _rows(self, table: str, tenant_id: str) -> list[dict[str, Any]]:
        try:
            return await self._read_model.rows(table, tenant_id=tenant_id)
        except LookupError:
            return []  # the projection has not been prepared yet: nothing listed


def _customer_matches(row: dict[str, Any], f: CustomerFilters) -> bool:
    return (
        (f.email_index is None or row["email_index"] == f.email_index)
        and (f.tag_index is None or f.tag_index in (row["tag_indexes"] or []))
        and (f.ids is None or row["customer_id"] in f.ids)
    )


def _payment_matches(row: dict[str, Any], f: PaymentFilters, after: CreatedCursor | None) -> bool:
    checks = [
        f.status is None or row["status"] == f.status,
        f.order_id is None or row["order_id"] == f.order_id,
        f.created_from is None or row["created_at"] >= f.created_from,
        f.created_to is None or row["created_at"] < f.created_to,
        after is None or (row["created_at"], row["payment_id"]) < (after.created_at, after.id),
    ]
    return all(checks)
