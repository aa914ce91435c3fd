"""GET /payments: payments newest first, by status, order and creation time, in pages."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency

from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import PaymentStatus
from commerce_core.projections.ports.lists import CreatedCursor, PaymentFilters
from entrypoints.http.api import cursors
from entrypoints.http.api.customer_list import CursorQuery, Limit
from entrypoints.http.api.views import PaymentOut, payment_out
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of


class PaymentListOut(msgspec.Struct):
    items: list[PaymentOut]
    next_cursor: str | None


def _instant(value: datetime | None, name: str) -> datetime | None:
    """An aware instant the database can hold (year 1 to 9999 in UTC); no zone means UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise problem(422, "validation-error", f"{name} is out of range") from None


class PaymentListController(Controller):
    path = "/payments"
    tags = ["payments"]

    @get("/", summary="List payments", responses=query_problems())
    async def list_payments(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        status: PaymentStatus | None = None,
        order_id: UUID | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        limit: Limit = 50,
        cursor: CursorQuery = None,
    ) -> PaymentListOut:
        """The tenant's payments, newest first, filtered by ``status``, ``order_id`` and
        creation time (``created_from`` included, ``created_to`` excluded; from after to:
        422). Found through a read model (it may lag a moment), each shown as
        `GET /payments/{id}` shows it now. Every tenant role; changes nothing."""
        start = _instant(created_from, "created_from")
        end = _instant(created_to, "created_to")
        if start is not None and end is not None and start > end:
            raise problem(422, "validation-error", "created_from must not be after created_to")
        tenant_id = tenant_of(principal)
        filters = PaymentFilters(
            status=None if status is None else status.value,
            order_id=order_id,
            created_from=start,
            created_to=end,
        )
        page = await services.list_queries.payments(
            tenant_id, filters, limit, cursors.decode(cursor, CreatedCursor)
        )
        items = [
            payment_out(await load_payment(services.repo, tenant_id, row.payment_id))
            for row in page.rows
        ]
        return PaymentListOut(items, cursors.encode(page.next_cursor))
