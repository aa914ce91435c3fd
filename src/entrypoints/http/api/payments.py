"""Payments: authorize, charge, capture, void, refund, read (API.md "Payments")."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from commerce_core.payments import services as service
from commerce_core.payments.refunds import refund_payment
from commerce_core.payments.results import PaymentResult
from commerce_core.shared.context import CommandContext
from commerce_core.tenancy.fee_terms import tenant_fee_schedule
from entrypoints.http.api import examples
from entrypoints.http.api.refund_policy import REFUND_PROBLEMS, refund_ctx
from entrypoints.http.api.response_examples import PENDING_PAYMENT
from entrypoints.http.api.schemas import PositiveAmount
from entrypoints.http.api.views import PaymentOut, RefundOut, payment_out, refund_out
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import payment_services
from entrypoints.http.openapi import VerbatimExample, command_problems, query_problems
from entrypoints.http.problems import RETRYABLE_FLAG
from entrypoints.http.roles import may_refund
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
    amount: PositiveAmount | None = None


class PaymentRefundIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: PositiveAmount
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


_LATE = ResponseSpec(
    data_container=PaymentOut,
    generate_examples=False,
    description=(
        "The gateway's answer is late: the payment is recorded with status pending and the "
        "service finishes it itself; read it with GET /payments/{id}, or send the same request "
        "with the same Idempotency-Key to wait for it again."
    ),
    examples=[VerbatimExample(id="pending", summary="answer late", value=PENDING_PAYMENT)],
)


def _late_or(*slugs: str) -> dict[int, ResponseSpec]:
    return {202: _LATE, **command_problems(*slugs)}


_OPEN_PROBLEMS = _late_or(
    "not-found",
    "seller-not-found",
    "seller-not-ready",
    "payment-declined",
    "invalid-transition",
    "order-already-paid",
    "payment-in-progress",
    "concurrency-conflict",
    "gateway-unavailable",
    "gateway-error",
)


def answered(
    request: Request[Any, Any, Any], result: PaymentResult, status: int
) -> Response[PaymentOut]:
    """The payment with ``status``, or 202 when the gateway's answer is late; then an
    Idempotency-Key is released, so the same request again resumes the payment."""
    body = payment_out(result.payment, result.client_secret, result.attention)
    if result.pending:
        request.scope.setdefault("state", {})[RETRYABLE_FLAG] = True
        return Response(body, status_code=202)
    return Response(body, status_code=status)


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
    ) -> PaymentResult:
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
        return await opener(payments, ctx, command, fees)

    @post(
        "/authorize", summary="Authorize a card payment", status_code=201, responses=_OPEN_PROBLEMS
    )
    async def authorize(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[PaymentIn, examples.PAYMENT],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> Response[PaymentOut]:
        """Holds what the order owes on the card. 3-D Secure: status pending,
        requires_action true and a client_secret. Declined: 402 payment-declined.
        With seller_id the payment goes to the seller's account less the platform fee
        (404 seller-not-found; 409 seller-not-ready until it may take charges)."""
        result = await self._open(data, services, principal, ctx, capture=False)
        return answered(request, result, 201)

    @post("/charge", summary="Charge a card", status_code=201, responses=_OPEN_PROBLEMS)
    async def charge(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[PaymentIn, examples.PAYMENT],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> Response[PaymentOut]:
        """Authorizes and captures at once (seller_id as for authorize). A second charge of
        an order being paid: 409 payment-in-progress; of a paid order: 409
        order-already-paid, both before the gateway is asked. A late gateway: 202 pending."""
        result = await self._open(data, services, principal, ctx, capture=True)
        return answered(request, result, 201)

    @post(
        "/{payment_id:uuid}/capture",
        summary="Capture a payment",
        status_code=200,
        responses=_late_or(
            "not-found",
            "capture-exceeds-authorized",
            "invalid-transition",
            "payment-in-progress",
            "concurrency-conflict",
            "gateway-unavailable",
            "gateway-error",
        ),
    )
    async def capture(
        self,
        request: Request[Any, Any, Any],
        payment_id: FromPath[UUID],
        data: Annotated[CaptureIn, examples.CAPTURE],
        services: NamedDependency[Services],
        ctx: NamedDependency[CommandContext],
    ) -> Response[PaymentOut]:
        """Captures ``amount`` (default: all that is authorized and not yet captured).
        Several captures may follow one another until the authorization is used up; the
        one that takes the rest is final. Concurrent captures each get their share or 409
        capture-exceeds-authorized, before the gateway is asked."""
        result = await service.capture_payment(
            await payment_services(services, ctx.tenant_id), ctx, payment_id, data.amount
        )
        return answered(request, result, 200)

    @post(
        "/{payment_id:uuid}/void",
        summary="Void a payment",
        status_code=200,
        responses=command_problems(
            "not-found",
            "invalid-transition",
            "payment-in-progress",
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
        summary="Refund a payment",
        status_code=201,
        responses=REFUND_PROBLEMS,
    )
    async def refund(
        self,
        payment_id: FromPath[UUID],
        data: Annotated[PaymentRefundIn, examples.PAYMENT_REFUND],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> RefundOut:
        """Refunds part or all of what was captured; never more than captured minus refunded.
        By a non-admin key, one that takes the order's refunds above the tenant's threshold
        answers ``"status": "pending_approval"`` and waits for an admin. A ``service`` key
        refunds only with the ``refunds`` grant."""
        await service.get_payment(services.repo, ctx.tenant_id, payment_id)
        may_refund(principal, data.amount)
        refund = await refund_payment(
            await payment_services(services, ctx.tenant_id),
            await refund_ctx(services, principal, ctx),
            payment_id,
            data.amount,
            data.reason,
        )
        return refund_out(refund)

    @get("/{payment_id:uuid}", summary="Show a payment", responses=query_problems("not-found"))
    async def show(
        self,
        payment_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> PaymentOut:
        """The payment as its events say now: amounts authorized, captured and refunded,
        fees and net amount. Changes nothing."""
        payment = await service.get_payment(services.repo, tenant_of(principal), payment_id)
        return payment_out(payment)
