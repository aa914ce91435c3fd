"""`GET /orders` on PostgreSQL: keyset pagination over the order list's serving view."""

from __future__ import annotations

from typing import Any

import asyncpg

from commerce_core.ordering.ports.order_queries import Cursor, OrderFilters, OrderPage, summary_of
from commerce_core.projections.tables import serving_name

_COLUMNS = (
    "order_id, number, status, customer_id, currency, total, paid, refunded, channel,"
    " created_at, updated_at"
)


class PostgresOrderQueries:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._view = serving_name("order_list")

    async def list_orders(
        self, tenant_id: str, filters: OrderFilters, limit: int, after: Cursor | None
    ) -> OrderPage:
        where = ["tenant_id = $1"]
        args: list[Any] = [tenant_id]

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if filters.status is not None:
            where.append(f"status = {arg(filters.status)}")
        if filters.customer_id is not None:
            where.append(f"customer_id = {arg(filters.customer_id)}")
        if filters.channel is not None:
            where.append(f"channel = {arg(filters.channel)}")
        if filters.number is not None:
            where.append(f"number = {arg(filters.number)}")
        if filters.created_from is not None:
            where.append(f"created_at >= {arg(filters.created_from)}")
        if filters.created_to is not None:
            where.append(f"created_at < {arg(filters.created_to)}")
        if after is not None:
            where.append(f"(created_at, order_id) < ({arg(after.created_at)}, {arg(after.id)})")
        sql = (
            f"SELECT {_COLUMNS} FROM {self._view} WHERE {' AND '.join(where)}"
            f" ORDER BY created_at DESC, order_id DESC LIMIT {arg(limit + 1)}"
        )
        try:
            rows = await self._pool.fetch(sql, *args)
        except asyncpg.UndefinedTableError:
            rows = []  # the projection has not created its table yet: no orders listed
        items = [summary_of(dict(row)) for row in rows[:limit]]
        more = len(rows) > limit
        return OrderPage(items, Cursor(items[-1].created_at, items[-1].id) if more else None)
