"""Payments: authorize, charge, capture, void, refund, read (API.md "Payments")."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from commerce_core.payments import services as service
from commerce_core.payments.refunds import refund_payment
from commerce_core.shared.context import CommandContext
from commerce_core.tenancy.fee_terms import tenant_fee_schedule
from entrypoints.http.api import examples
from entrypoints.http.api.refund_policy import REFUND_PROBLEMS, check_refund_allowed
from entrypoints.http.api.views import PaymentOut, RefundOut, payment_out, refund_out
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import payment_services
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.services import Services, tenant_of, tenant_settings


class CardIn(msgspec.Struct, forbid_unknown_fields=True):
    type: Literal["card"]
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class PaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    order_id: UUID
    payment_method: CardIn
    gateway: Literal["stripe", "fake"] | None = None
    # a marketplace seller: the payment goes to its account, less the platform fee
    seller_id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None


class CaptureIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(gt=0)] | None = None


class PaymentRefundIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(gt=0)]
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


_OPEN_PROBLEMS = command_problems(
    "not-found",
    "seller-not-found",
    "seller-not-ready",
    "payment-declined",
    "invalid-transition",
    "concurrency-conflict",
    "gateway-unavailable",
    "gateway-error",
)


class PaymentsController(Controller):
    path = "/payments"
    tags = ["payments"]

    async def _open(
        self,
        data: PaymentIn,
        services: Services,
        principal: Principal,
        ctx: CommandContext,
        capture: bool,
    ) -> PaymentOut:
        settings = await tenant_settings(services, principal)
        fees = tenant_fee_schedule(settings)
        payments = await payment_services(services, ctx.tenant_id)
        gateway_name: str = data.gateway or str(getattr(payments.gateway, "name", "stripe"))
        command = service.OpenPayment(
            order_id=data.order_id,
            token=data.payment_method.token,
            gateway_name=gateway_name,
            seller_id=data.seller_id,
        )
        opener = service.charge_payment if capture else service.authorize_payment
        result = await opener(payments, ctx, command, fees)
        return payment_out(result.payment, result.client_secret, result.attention)

    @post("/authorize", status_code=201, responses=_OPEN_PROBLEMS)
    async def authorize(
        self,
        data: Annotated[PaymentIn, examples.PAYMENT],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> PaymentOut:
        """Holds what the order owes on the card. 3-D Secure: status pending,
        requires_action true and a client_secret. Declined: 402 payment-declined.
        With seller_id the payment goes to the seller's account less the platform fee
        (404 seller-not-found; 409 seller-not-ready until it may take charges)."""
        return await self._open(data, services, principal, ctx, capture=False)

    @post("/charge", status_code=201, responses=_OPEN_PROBLEMS)
    async def charge(
        self,
        data: Annotated[PaymentIn, examples.PAYMENT],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> PaymentOut:
        """Authorizes and captures at once (seller_id as for authorize)."""
        return await self._open(data, services, principal, ctx, capture=True)

    @post(
        "/{payment_id:uuid}/capture",
        status_code=200,
        responses=command_problems(
            "not-found",
            "capture-exceeds-authorized",
            "invalid-transition",
            "concurrency-conflict",
            "gateway-unavailable",
            "gateway-error",
        ),
    )
    async def capture(
        self,
        payment_id: FromPath[UUID],
        data: JSONBody[CaptureIn],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> PaymentOut:
        """Captures ``amount`` (default: all that is authorized and not yet captured)."""
        result = await service.capture_payment(
            await payment_services(services, ctx.tenant_id), ctx, payment_id, data.amount
        )
        return payment_out(result.payment, result.client_secret, result.attention)

    @post(
        "/{payment_id:uuid}/void",
        status_code=200,
        responses=command_problems(
            "not-found",
            "invalid-transition",
            "concurrency-conflict",
            "gateway-unavailable",
            "gateway-error",
        ),
    )
    async def void(
        self,
        payment_id: FromPath[UUID],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> PaymentOut:
        """Releases an authorization that was not captured."""
        payment = await service.void_payment(
            await payment_services(services, ctx.tenant_id), ctx, payment_id
        )
        return payment_out(payment)

    @post(
        "/{payment_id:uuid}/refund",
        status_code=201,
        responses=REFUND_PROBLEMS,
    )
    async def refund(
        self,
        payment_id: FromPath[UUID],
        data: JSONBody[PaymentRefundIn],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> RefundOut:
        """Refunds part or all of what was captured; never more than captured minus refunded."""
        await service.get_payment(services.repo, ctx.tenant_id, payment_id)
        await check_refund_allowed(services, principal, data.amount)
        refund = await refund_payment(
            await payment_services(services, ctx.tenant_id),
            ctx,
            payment_id,
            data.amount,
            data.reason,
        )
        return refund_out(refund)

    @get("/{payment_id:uuid}", responses=query_problems("not-found"))
    async def show(
        self,
        payment_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> PaymentOut:
        payment = await service.get_payment(services.repo, tenant_of(principal), payment_id)
        return payment_out(payment)
