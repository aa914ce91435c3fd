"""The list queries on PostgreSQL: keyset pages over the list projections' serving views.

Customer metrics repeat the rules of ``customer_metrics.activity_of`` in SQL, as
``analytics_queries`` does (one query per page, or over every buyer for a segment).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from commerce_core.projections.customer_list import TABLE as CUSTOMERS
from commerce_core.projections.customer_metrics import TABLE as CUSTOMER_ORDERS
from commerce_core.projections.customer_metrics import CustomerMetrics
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
from commerce_core.projections.tables import serving_name

# Counted orders (money received) per customer; ties of created_at go to the smaller id.
_METRICS = f"""
SELECT customer_id,
       count(*) AS orders,
       sum(COALESCE(paid, 0) - COALESCE(refunded, 0))::bigint AS spent,
       min(created_at) AS first_at,
       max(created_at) AS last_at,
       (array_agg(COALESCE(total, 0) ORDER BY created_at, order_id))[1] AS first_total
  FROM {serving_name(CUSTOMER_ORDERS)}
 WHERE tenant_id = $1 AND currency = $2 AND paid > 0 {{customers}}
 GROUP BY customer_id
"""


class _Where:
    """Conditions with numbered parameters, built in order."""

    def __init__(self, tenant_id: str) -> None:
        self.conditions = ["tenant_id = $1"]
        self.args: list[Any] = [tenant_id]

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def __str__(self) -> str:
        return " AND ".join(self.conditions)


class PostgresListQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def customers(
        self, tenant_id: str, filters: CustomerFilters, limit: int, after: CreatedCursor | None
    ) -> CustomerRows:
        w = _Where(tenant_id)
        if filters.email_index is not None:
            w.conditions.append(f"email_index = {w.arg(filters.email_index)}")
        if filters.tag_index is not None:
            tag = msgspec.json.encode([filters.tag_index])
            w.conditions.append(f"tag_indexes @> {w.arg(tag)}::jsonb")
        if filters.ids is not None:
            w.conditions.append(f"customer_id = ANY({w.arg(list(filters.ids))}::uuid[])")
        if after is not None:
            w.conditions.append(
                f"(created_at, customer_id) > ({w.arg(after.created_at)}, {w.arg(after.id)})"
            )
        sql = (
            "SELECT customer_id, status, email, name, tags, created_at"
            f" FROM {serving_name(CUSTOMERS)} WHERE {w}"
            f" ORDER BY created_at, customer_id LIMIT {w.arg(limit + 1)}"
        )
        rows = await self._fetch(sql, *w.args)
        page = [
            CustomerRow(
                customer_id=r["customer_id"],
                status=r["status"],
                email=_json(r["email"]),
                name=_json(r["name"]),
                tags=_json(r["tags"]) or [],
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
        if customer_ids is None:
            rows = await self._fetch(_METRICS.format(customers=""), tenant_id, currency)
        elif not customer_ids:
            return []
        else:
            sql = _METRICS.format(customers="AND customer_id = ANY($3::uuid[])")
            rows = await self._fetch(sql, tenant_id, currency, list(customer_ids))
        return [
            CustomerMetrics(
                customer_id=row["customer_id"],
                currency=currency,
                total_orders=row["orders"],
                total_spent=row["spent"],
                first_order_at=row["first_at"],
                first_order_total=row["first_total"],
                last_order_at=row["last_at"],
            )
            for row in rows
        ]

    async def products(self, tenant_id: str, limit: int, after: str | None) -> ProductPage:
        w = _Where(tenant_id)
        if after is not None:
            # "C": SKUs compare byte by byte, as Python compares them, whatever the locale
            w.conditions.append(f'sku COLLATE "C" > {w.arg(after)}')
        sql = (
            "SELECT sku, name, price, currency, tax_rate_bps, updated_at"
            f' FROM {serving_name(PRODUCTS)} WHERE {w} ORDER BY sku COLLATE "C"'
            f" LIMIT {w.arg(limit + 1)}"
        )
        rows = await self._fetch(sql, *w.args)
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
        w = _Where(tenant_id)
        if filters.status is not None:
            w.conditions.append(f"status = {w.arg(filters.status)}")
        if filters.order_id is not None:
            w.conditions.append(f"order_id = {w.arg(filters.order_id)}")
        if filters.created_from is not None:
            w.conditions.append(f"created_at >= {w.arg(filters.created_from)}")
        if filters.created_to is not None:
            w.conditions.append(f"created_at < {w.arg(filters.created_to)}")
        if after is not None:
            w.conditions.append(
                f"(created_at, payment_id) < ({w.arg(after.created_at)}, {w.arg(after.id)})"
            )
        sql = (
            f"SELECT payment_id, order_id, status, created_at FROM {serving_name(PAYMENTS)}"
            f" WHERE {w} ORDER BY created_at DESC, payment_id DESC LIMIT {w.arg(limit + 1)}"
        )
        rows = await self._fetch(sql, *w.args)
        page = [PaymentRow(**dict(r)) for r in rows[:limit]]
        more = len(rows) > limit
        return PaymentRows(
            page, CreatedCursor(page[-1].created_at, page[-1].payment_id) if more else None
        )

    async def _fetch(self, sql: str, *args: Any) -> Sequence[asyncpg.Record]:
        try:
            return await self._pool.fetch(sql, *args)
        except asyncpg.UndefinedTableError:
            return []  # the projection has not created its tables yet: nothing listed


def _json(raw: bytes | None) -> Any:
    return None if raw is None else msgspec.json.decode(raw)
