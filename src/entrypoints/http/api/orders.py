"""Orders: place, read, change status, cancel, refund, ship (API.md "Orders")."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from commerce_core.ordering import services as service
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments.refunds import RefundOrder, refund_order
from commerce_core.payments.services import order_payments
from commerce_core.processes.cancellation import cancel_order
from commerce_core.processes.order_detail import load_order_detail
from commerce_core.processes.order_status import change_order_status
from commerce_core.processes.shipping import CreateShipment, create_shipment
from commerce_core.shared.context import CommandContext
from commerce_core.shared.values import SkuQuantity
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.api import examples
from entrypoints.http.api.refund_policy import REFUND_PROBLEMS, refund_ctx
from entrypoints.http.api.schemas import PositiveAmount
from entrypoints.http.api.views import (
    OrderDetailOut,
    OrderOut,
    PaymentOut,
    RefundOut,
    ShipmentOut,
    order_detail_out,
    order_out,
    payment_out,
    refund_out,
    shipment_out,
)
from entrypoints.http.auth import Principal, provide_principal
from entrypoints.http.bundles import (
    order_defaults,
    order_services,
    payment_services,
    shipping_services,
)
from entrypoints.http.idempotency import idempotency_key
from entrypoints.http.limits.checkout import limit_checkout, provide_limits
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.roles import SEES_ADDRESSES, may_refund
from entrypoints.http.services import (
    Services,
    provide_ctx,
    provide_services,
    tenant_of,
    tenant_settings,
)

Reason = Annotated[str, msgspec.Meta(max_length=500)]


class StatusChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    status: OrderStatus
    reason: Reason | None = None


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class RefundIn(msgspec.Struct, forbid_unknown_fields=True):
    """``restock_lines`` imply ``restock``; with ``"restock": false`` they contradict it."""

    amount: PositiveAmount | None = None
    reason: Reason | None = None
    restock: bool | None = None
    restock_lines: list[SkuQuantity] | None = None

    def __post_init__(self) -> None:
        if self.restock is False and self.restock_lines is not None:
            raise ValueError("restock_lines put units back: they cannot go with restock false")


class OrdersController(Controller):
    path = "/orders"
    tags = ["orders"]

    @post(
        "/",
        summary="Place an order",
        status_code=201,
        responses=command_problems("insufficient-stock", "not-found", "concurrency-conflict"),
    )
    async def place(
        self, data: Annotated[service.PlaceOrder, examples.ORDER], request: Request[Any, Any, Any]
    ) -> OrderOut:
        """Prices the lines from the catalog, reserves stock and records the order atomically.
        Stock is held for the tenant's `reservation_minutes` (GET /admin/settings) unless
        the order names its own; an order without `currency` is in the tenant's
        `default_currency`, and one in a currency the tenant does not accept is refused
        (422). Not enough stock: 409 insufficient-stock and nothing is reserved. A tenant may limit
        orders per customer (`checkout_per_minute`): beyond it, 429 rate-limited."""
        # Taken from the request, not declared as four dependencies: litestar resolves
        # independent dependencies concurrently, an anyio task group of four tasks per
        # request, which was an eighth of place-order's CPU (bench/http.py, ADR 0044).
        services, principal = provide_services(request), provide_principal(request)
        ctx = provide_ctx(request, principal, idempotency_key(request))
        limits = provide_limits(request)
        await limit_checkout(limits, principal.tenant_id, data.customer)
        defaults = order_defaults(await tenant_settings(services, principal))
        order = await service.place_order(order_services(services), ctx, data, defaults)
        return order_out(order)

    @get("/{order_id:uuid}", summary="Show an order", responses=query_problems("not-found"))
    async def show(
        self, order_id: FromPath[UUID], request: Request[Any, Any, Any]
    ) -> OrderDetailOut:
        """The order as its events say now, with status history, payments and shipments.
        Admin and staff keys also see its shipping and billing addresses (null once the
        customer is erased); service keys see them null. Every tenant role; changes nothing."""
        # from the request, not two dependencies: litestar resolves independent ones in an
        # anyio task group per request (a tenth of get-order's CPU; ADR 0044, ADR 0050)
        services, principal = provide_services(request), provide_principal(request)
        order, payments, shipments = await load_order_detail(
            services.repo, tenant_of(principal), order_id
        )
        if principal.role not in SEES_ADDRESSES:
            return order_detail_out(order, payments, shipments)
        addresses = await service.order_addresses(services.keyring, order)
        return order_detail_out(order, payments, shipments, addresses)

    @patch(
        "/{order_id:uuid}",
        summary="Change an order's status",
        responses=command_problems(
            "not-found",
            "invalid-transition",
            "concurrency-conflict",
            "gateway-unavailable",
            "gateway-error",
        ),
    )
    async def change_status(
        self,
        order_id: FromPath[UUID],
        data: Annotated[StatusChangeIn, examples.STATUS_CHANGE],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> OrderOut:
        """Moves the order along its state machine; 409 invalid-transition otherwise.
        ``cancelled`` cancels it, as ``POST /orders/{id}/cancel`` does."""
        if principal.role is Role.SERVICE and data.status is OrderStatus.CANCELLED:
            order = await service.get_order(services.repo, ctx.tenant_id, order_id)
            may_refund(principal, order.refundable.amount)  # cancelling a paid order refunds
        order = await change_order_status(
            await payment_services(services, ctx.tenant_id),
            await refund_ctx(services, principal, ctx),
            order_id,
            data.status,
            data.reason,
        )
        return order_out(order)

    @post(
        "/{order_id:uuid}/cancel",
        summary="Cancel an order",
        status_code=200,
        responses=command_problems(
            "not-found",
            "invalid-transition",
            "concurrency-conflict",
            "gateway-unavailable",
            "gateway-error",
        ),
    )
    async def cancel(
        self,
        order_id: FromPath[UUID],
        data: Annotated[CancelIn, examples.CANCEL],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> OrderOut:
        """Releases reservations, voids or refunds payments, and cancels the order. A refund
        that needs an admin's approval waits for it (``GET /refunds?status=pending_approval``);
        the order is ``cancelled`` meanwhile, its ``refunded`` unchanged until approved."""
        if principal.role is Role.SERVICE:
            order = await service.get_order(services.repo, ctx.tenant_id, order_id)
            may_refund(principal, order.refundable.amount)  # cancelling a paid order refunds
        order = await cancel_order(
            await payment_services(services, ctx.tenant_id),
            await refund_ctx(services, principal, ctx),
            order_id,
            data.reason,
        )
        return order_out(order)

    @post(
        "/{order_id:uuid}/refund",
        summary="Refund an order",
        status_code=201,
        responses=REFUND_PROBLEMS,
    )
    async def refund(
        self,
        order_id: FromPath[UUID],
        data: Annotated[RefundIn, examples.ORDER_REFUND],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> RefundOut:
        """Refunds ``amount`` (default: all that is refundable), optionally restocking. By a
        non-admin key, one that takes the order's refunds above the tenant's threshold
        answers ``"status": "pending_approval"`` and waits for an admin. A ``service`` key
        refunds only with the ``refunds`` grant."""
        if principal.role is Role.SERVICE:
            order = await service.get_order(services.repo, ctx.tenant_id, order_id)
            may_refund(principal, order.refundable.amount if data.amount is None else data.amount)
        command = RefundOrder(
            amount=data.amount,
            reason=data.reason,
            restock=bool(data.restock),
            restock_lines=data.restock_lines,
        )
        refunds = await refund_order(
            await payment_services(services, ctx.tenant_id),
            await refund_ctx(services, principal, ctx),
            order_id,
            command,
        )
        return _one_refund([refund_out(r) for r in refunds])

    @get(
        "/{order_id:uuid}/payments",
        summary="List an order's payments",
        responses=query_problems("not-found"),
    )
    async def payments(
        self,
        order_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> list[PaymentOut]:
        """Every payment of the order, oldest first, with its fees. Changes nothing."""
        # order_payments loads the order for the tenant: 404 when it is not theirs
        payments = await order_payments(services.repo, tenant_of(principal), order_id)
        return [payment_out(p) for p in payments]

    @post(
        "/{order_id:uuid}/shipments",
        summary="Ship an order",
        status_code=201,
        responses=command_problems(
            "not-found", "invalid-transition", "concurrency-conflict", "carrier-error"
        ),
    )
    async def ship(
        self,
        order_id: FromPath[UUID],
        data: Annotated[CreateShipment, examples.SHIPMENT],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> ShipmentOut:
        """Ships some or all of what is left to ship (``lines`` left out: everything)."""
        shipment = await create_shipment(shipping_services(services), ctx, order_id, data)
        return shipment_out(shipment)


def _one_refund(parts: list[RefundOut]) -> RefundOut:
    """A refund split across several payments answers as one, summed, naming the first."""
    first = parts[0]
    if len(parts) == 1:
        return first
    total = sum(p.amount for p in parts)
    return msgspec.structs.replace(first, amount=total)
