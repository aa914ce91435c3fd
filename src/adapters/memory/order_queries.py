"""`GET /orders` over the memory read model (same order and paging as PostgreSQL)."""

from __future__ import annotations

from typing import Any

from adapters.memory.readmodel import MemoryReadModel
from commerce_core.ordering.ports.order_queries import Cursor, OrderFilters, OrderPage, summary_of


class MemoryOrderQueries:
    def __init__(self, read_model: MemoryReadModel) -> None:
        self._read_model = read_model

    async def list_orders(
        self, tenant_id: str, filters: OrderFilters, limit: int, after: Cursor | None
    ) -> OrderPage:
        rows = [row for row in await self._rows(tenant_id) if _matches(row, filters, after)]
        rows.sort(key=lambda r: (r["created_at"], r["order_id"]), reverse=True)
        items = [summary_of(row) for row in rows[:limit]]
        more = len(rows) > limit
        return OrderPage(items, Cursor(items[-1].created_at, items[-1].id) if more else None)

    async def _rows(self, tenant_id: str) -> list[dict[str, Any]]:
        try:
            return await self._read_model.rows("order_list", tenant_id=tenant_id)
        except LookupError:
            return []


def _matches(row: dict[str, Any], f: OrderFilters, after: Cursor | None) -> bool:
    checks = [
        f.status is None or row["status"] == f.status,
        f.customer_id is None or row["customer_id"] == f.customer_id,
        f.channel is None or row["channel"] == f.channel,
        f.number is None or row["number"] == f.number,
        f.created_from is None or row["created_at"] >= f.created_from,
        f.created_to is None or row["created_at"] < f.created_to,
        after is None or (row["created_at"], row["order_id"]) < (after.created_at, after.id),
    ]
    return all(checks)
