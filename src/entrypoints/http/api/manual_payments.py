"""Money received or sent back by hand (roles staff and admin); extra to API.md.

- ``POST /orders/{id}/payments/manual`` ``{"method": "bank_transfer"|"cash_on_delivery",
  "reference"?: str (required for bank_transfer), "amount"?: int, "shipment_id"?: uuid}``
  -> 201 Payment: a bank transfer arrived, or cash was collected; the order records it
  (paid once in full). ``shipment_id`` names the cash-on-delivery parcel the cash is for:
  recorded once, whether its delivery event or this receipt comes first.
- ``POST /payments/{id}/manual-refund`` ``{"amount": int, "reason"?, "reference"?}`` -> 201
  Refund: money of a bank transfer or cash payment was sent back by hand. Refunds above
  the tenant's approval threshold need an admin key, as for cards.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from commerce_core.payments.services import get_payment
from commerce_core.processes.manual_payments import (
    ManualReceipt,
    ManualRefund,
    record_manual_payment,
    record_manual_refund,
)
from commerce_core.shared.context import CommandContext
from commerce_core.shared.values import PaymentMethod
from commerce_core.tenancy.fee_terms import tenant_fee_schedule
from entrypoints.http.api import examples
from entrypoints.http.api.refund_policy import check_refund_allowed
from entrypoints.http.api.schemas import PositiveAmount
from entrypoints.http.api.views import PaymentOut, RefundOut, payment_out, refund_out
from entrypoints.http.auth import Principal
from entrypoints.http.bundles import manual_payment_services
from entrypoints.http.openapi import command_problems
from entrypoints.http.services import Services, tenant_settings

Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")]


class ManualPaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    method: Literal["bank_transfer", "cash_on_delivery"]
    reference: Reference | None = None
    amount: PositiveAmount | None = None
    shipment_id: UUID | None = None


class ManualRefundIn(msgspec.Struct, forbid_unknown_fields=True):
    amount: PositiveAmount
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    reference: Reference | None = None


class ManualPaymentsController(Controller):
    tags = ["payments"]

    @post(
        "/orders/{order_id:uuid}/payments/manual",
        summary="Record a payment received by hand",
        status_code=201,
        responses=command_problems(
            "forbidden", "not-found", "invalid-transition", "concurrency-conflict"
        ),
    )
    async def record_payment(
        self,
        order_id: FromPath[UUID],
        data: Annotated[ManualPaymentIn, examples.MANUAL_PAYMENT],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> PaymentOut:
        """Records a bank transfer received (with the bank's reference) or cash collected
        on delivery: a captured payment of that method. ``amount`` defaults to what the
        order still owes (with ``shipment_id``: that parcel's share); more than that is
        refused (409). The same reference, or the same parcel, recorded again returns the
        payment recorded for it."""
        fees = tenant_fee_schedule(await tenant_settings(services, principal))
        receipt = ManualReceipt(
            method=PaymentMethod(data.method),
            reference=data.reference,
            amount=data.amount,
            shipment_id=data.shipment_id,
        )
        result = await record_manual_payment(
            manual_payment_services(services), ctx, order_id, receipt, fees
        )
        return payment_out(result.payment, attention=result.attention)

    @post(
        "/payments/{payment_id:uuid}/manual-refund",
        summary="Record a refund given by hand",
        status_code=201,
        responses=command_problems(
            "forbidden",
            "not-found",
            "refund-exceeds-captured",
            "invalid-transition",
            "concurrency-conflict",
        ),
    )
    async def record_refund(
        self,
        payment_id: FromPath[UUID],
        data: Annotated[ManualRefundIn, examples.MANUAL_REFUND],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
    ) -> RefundOut:
        """Records money of a bank transfer or cash payment given back by hand (card
        payments are refunded through ``POST /payments/{id}/refund``)."""
        await get_payment(services.repo, ctx.tenant_id, payment_id)
        await check_refund_allowed(services, principal, data.amount)
        command = ManualRefund(amount=data.amount, reason=data.reason, reference=data.reference)
        refund = await record_manual_refund(
            manual_payment_services(services), ctx, payment_id, command
        )
        return refund_out(refund)
