"""GET /orders/{id}/history and GET /payments/{id}/history: timelines for investigations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from commerce_core.application.replay import (
    AsOf,
    TimelineEvent,
    order_timeline,
    payment_timeline,
    state_of,
)
from commerce_core.domain.order import Order
from commerce_core.ports.tenants import Role
from entrypoints.http.api.schemas import MoneyOut
from entrypoints.http.auth import Principal, requires_role
from entrypoints.http.services import Services, tenant_of

AsOfQuery = Annotated[
    str | None,
    Parameter(
        max_length=64,
        description="A version (e.g. 3) or an RFC 3339 timestamp; default: now.",
    ),
]


class LineOut(msgspec.Struct):
    sku: str
    name: str
    quantity: int
    unit_price: MoneyOut
    line_total: MoneyOut


class TotalsOut(msgspec.Struct):
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    paid: int
    refunded: int
    currency: str


class StatusChangeOut(msgspec.Struct):
    status: str
    at: datetime
    actor: str
    reason: str | None


class OrderStateOut(msgspec.Struct):
    """The order as it was (the Order resource of API.md, with ids of payments and shipments)."""

    id: UUID
    number: str
    status: str
    currency: str
    lines: list[LineOut]
    totals: TotalsOut
    customer_id: UUID
    reservation_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    status_history: list[StatusChangeOut]
    payment_ids: list[UUID]
    shipment_ids: list[UUID]

    @classmethod
    def of(cls, order: Order) -> OrderStateOut:
        t = order.totals
        return cls(
            id=order.id,
            number=str(order.number),
            status=str(order.status),
            currency=order.currency,
            lines=[
                LineOut(
                    str(line.sku),
                    line.name,
                    line.quantity,
                    MoneyOut.of(line.unit_price),
                    MoneyOut.of(line.line_total),
                )
                for line in order.lines
            ],
            totals=TotalsOut(
                subtotal=t.subtotal.amount,
                discount=t.discount.amount,
                tax=t.tax.amount,
                shipping=t.shipping.amount,
                total=t.total.amount,
                paid=order.paid.amount,
                refunded=order.refunded.amount,
                currency=order.currency,
            ),
            customer_id=order.customer_id,
            reservation_expires_at=order.reservation_expires_at,
            created_at=order.created_at,
            updated_at=order.updated_at,
            version=order.version,
            status_history=[
                StatusChangeOut(str(c.status), c.at, c.actor, c.reason)
                for c in order.status_history
            ],
            payment_ids=list(order.payment_ids),
            shipment_ids=list(order.shipment_ids),
        )


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
    guards = [requires_role(Role.STAFF)]

    @get("/orders/{order_id:uuid}/history")
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
        state = None if timeline.state is None else OrderStateOut.of(timeline.state)
        return OrderHistoryOut(timeline.events, state)

    @get("/payments/{payment_id:uuid}/history")
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
