"""GET /orders/{id}/history and GET /payments/{id}/history: timelines for investigations."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from commerce_core.investigations.replay import (
    AsOf,
    TimelineEvent,
    order_timeline,
    payment_timeline,
    state_of,
)
from entrypoints.http.api.views import OrderStateOut, order_state_out
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import query_problems
from entrypoints.http.services import Services, tenant_of

AsOfQuery = Annotated[
    str | None,
    Parameter(
        max_length=64,
        description="A version (e.g. 3) or an RFC 3339 timestamp; default: now.",
    ),
]


class OrderHistoryOut(msgspec.Struct):
    events: list[TimelineEvent]
    state: OrderStateOut | None


class PaymentHistoryOut(msgspec.Struct):
    events: list[TimelineEvent]
    state: dict[str, Any] | None


def _as_of(raw: str | None) -> AsOf | None:
    return None if raw is None or not raw.strip() else AsOf.parse(raw)


class HistoryController(Controller):
    """Timelines with metadata, for staff and admins of the owning tenant (others: 404)."""

    tags = ["history"]

    @get(
        "/orders/{order_id:uuid}/history",
        summary="Show an order's history",
        responses=query_problems("not-found", "forbidden"),
    )
    async def order_history(
        self,
        order_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        as_of: AsOfQuery = None,
    ) -> OrderHistoryOut:
        """The order's events and those of its payments, refunds, shipments and stock
        reservations, in the order they were recorded; with ``as_of``, only those up to
        then, and the order as it was then (``state`` null if it did not exist yet)."""
        timeline = await order_timeline(
            services.repo, order_id, tenant_id=tenant_of(principal), as_of=_as_of(as_of)
        )
        state = None if timeline.state is None else order_state_out(timeline.state)
        return OrderHistoryOut(timeline.events, state)

    @get(
        "/payments/{payment_id:uuid}/history",
        summary="Show a payment's history",
        responses=query_problems("not-found", "forbidden"),
    )
    async def payment_history(
        self,
        payment_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        as_of: AsOfQuery = None,
    ) -> PaymentHistoryOut:
        """The payment's events and its state (every attribute) as of ``as_of``."""
        timeline = await payment_timeline(
            services.repo, payment_id, tenant_id=tenant_of(principal), as_of=_as_of(as_of)
        )
        state = None if timeline.state is None else state_of(timeline.state)
        return PaymentHistoryOut(timeline.events, state)
