"""Payment use cases: authorize or charge what an order owes; capture, void, read.

Every money command checks everything it can first (a refused command calls no
gateway and records nothing), then calls the gateway with a key derived from
the command (``command_ids``), asking again with the same key when an answer
is lost, then records the outcome in one append, retried on conflict without
calling the gateway again. Running the same command again (same
``Idempotency-Key``) never moves money twice, even when our save failed after
the gateway acted.

Outcomes of authorize and charge:
- declined: the failed payment is saved and the order marked ``payment_failed``,
  then ``PaymentDeclinedError`` is raised;
- 3-D Secure: the payment is saved ``pending`` with ``requires_action``; the
  client secret is returned, never stored; the outcome arrives as a gateway event;
- authorized: the order's stock is held until the authorization lapses
  (``AUTHORIZATION_HOLD``), so a capture days later still finds it;
- captured (charge): the order records the money and, once paid in full, its
  stock is taken, in the same append.

With a ``seller_id`` the payment goes to that seller's gateway account, less the
platform fee (``seller_destinations``); an unknown seller or one that cannot take
charges yet is refused before any gateway call, recording nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import msgspec

from commerce_core.eventstore import Repository
from commerce_core.eventstore.preloaded import preload
from commerce_core.inventory.order_stock import OrderHold, hold_lines, load_stock
from commerce_core.inventory.stock_streams import stock_streams
from commerce_core.inventory.stock_turns import STOCK_TURNS
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.loading import load_ledger, load_order, load_order_and_ledger
from commerce_core.ordering.money_received import check_money_in, order_lines
from commerce_core.ordering.order import AWAITING_PAYMENT, OrderAlreadyPaidError
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.captures import capture_payment
from commerce_core.payments.destinations import opening_destination, ready_seller
from commerce_core.payments.effects import (
    Saved,
    abandon_effect,
    hold_for_authorization,
    recover_payment,
    run_effect,
)
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.loading import load_payment, load_payments
from commerce_core.payments.payment import (
    EffectKind,
    Payment,
    PaymentDeclinedError,
    PaymentStatus,
)
from commerce_core.payments.ports.gateway import GatewayPayment, PaymentGateway
from commerce_core.payments.results import (
    NothingToPayError,
    PaymentResult,
    amount_due,
    as_money,
)
from commerce_core.payments.voids import check_not_completed, void_payment
from commerce_core.shared.command_ids import new_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.loading import find_owned
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict
from commerce_core.shared.values import PaymentMethod

AUTHORIZATION_HOLD = timedelta(days=7)
"""How long card authorizations stay capturable (as at Stripe): stock is held that long."""

__all__ = [
    "AUTHORIZATION_HOLD",
    "NothingToPayError",
    "OpenPayment",
    "PaymentResult",
    "PaymentServices",
    "as_money",
    "authorize_payment",
    "capture_payment",
    "charge_payment",
    "get_payment",
    "hold_for_authorization",
    "order_payments",
    "void_payment",
]


class OpenPayment(msgspec.Struct, frozen=True, kw_only=True):
    """``POST /payments/authorize`` and ``/charge``: what order ``order_id`` owes, paid with
    the card ``token`` through ``gateway_name``; with a ``seller_id``, to that seller's
    account less the platform fee."""

    order_id: UUID
    token: str
    method: PaymentMethod = PaymentMethod.CARD
    gateway_name: str = "stripe"
    seller_id: str | None = None


@dataclass(frozen=True)
class _Request:
    order_id: UUID
    token: str
    fees: FeeSchedule
    method: PaymentMethod
    gateway_name: str
    hold: timedelta
    capture: bool
    seller_id: str | None = None

    @classmethod
    def of(
        cls, command: OpenPayment, fees: FeeSchedule, hold: timedelta, capture: bool
    ) -> _Request:
        return cls(
            command.order_id,
            command.token,
            fees,
            command.method,
            command.gateway_name,
            hold,
            capture,
            command.seller_id,
        )


async def authorize_payment(
    services: PaymentServices,
    ctx: CommandContext,
    command: OpenPayment,
    fees: FeeSchedule,
    *,
    hold: timedelta = AUTHORIZATION_HOLD,
) -> PaymentResult:
    """``POST /payments/authorize``: holds what the order owes on the customer's card;
    the payment is priced with ``fees``, the tenant's schedule."""
    return await _open(services, ctx, _Request.of(command, fees, hold, capture=False))


async def charge_payment(
    services: PaymentServices, ctx: CommandContext, command: OpenPayment, fees: FeeSchedule
) -> PaymentResult:
    """``POST /payments/charge``: takes what the order owes at once (authorize + capture);
    the payment is priced with ``fees``, the tenant's schedule."""
    return await _open(services, ctx, _Request.of(command, fees, AUTHORIZATION_HOLD, capture=True))


async def _open(services: PaymentServices, ctx: CommandContext, request: _Request) -> PaymentResult:
    repo, gateway = services.repo, services.gateway
    payment_id = new_id(ctx, services.ids, f"payment:{request.order_id}")
    ports = services
    # with a key, a payment recorded before is found by the decision's own read
    saved, replaced = await _decide(services, ctx, request, payment_id)
    payment = saved.payment
    if replaced:
        for waiting in replaced:
            await recover_payment(ports, ctx, waiting)  # their voids, before the new call
        saved = Saved(payment)  # the order and stock changed meanwhile: read them again
        order = await load_order(repo, ctx.tenant_id, request.order_id)
        if order.status not in AWAITING_PAYMENT:  # a replaced one completed after all
            key = f"{payment_id}:{'charge' if request.capture else 'authorize'}"
            await abandon_effect(ports, ctx, payment_id, key, "superseded")
            raise OrderAlreadyPaidError(order.number)
    opening = payment.opening
    if opening is None:  # finished before (the same command again), or by recovery
        return await _replay(gateway, payment)
    run = await run_effect(ports, ctx, payment_id, opening.key, saved)
    payment = run.payment
    if run.refused is not None:
        raise run.refused
    if payment.status is PaymentStatus.FAILED:
        raise PaymentDeclinedError(payment.decline_code)
    secret = run.client_secret if payment.requires_action else None
    return PaymentResult(payment, secret, run.attention, pending=run.pending)


async def _decide(
    services: PaymentServices, ctx: CommandContext, request: _Request, payment_id: UUID
) -> tuple[Saved, list[UUID]]:
    """Records the payment and its gateway call (the intent) with the order's
    ``PaymentRequested``, in one append: of two concurrent payments of one order only
    one is recorded; the other finds it under way (or the order paid) and stops here,
    before any gateway call. Payments still waiting for 3-D Secure get a void intent:
    the new attempt replaces them (returned, to be voided before the new call).

    Each attempt reads in two round trips (ADR 0047): the order, its ledger and (with an
    idempotency key) the payment; then the order's other payments and its stock. What
    it saved, and the stock it read, are returned for the run to start from."""
    repo, gateway = services.repo, services.gateway
    at = services.clock.now()

    async def decide() -> tuple[Saved, list[UUID]]:
        view = await preload(repo, _first_read(ctx, request.order_id, payment_id))
        if ctx.idempotency_key is not None and (
            earlier := await find_owned(view, ctx.tenant_id, payment_id, Payment)
        ):
            return Saved(earlier), []  # the same command, recorded before or concurrently
        order, ledger = await load_order_and_ledger(view, ctx.tenant_id, request.order_id)
        stock_ids = stock_streams(order.tenant_id, [line.sku for line in order.lines])
        mark = STOCK_TURNS.mark()
        view = await preload(view, [*ledger.payment_ids, *stock_ids])
        stock = view.subset(stock_ids)
        payments = await load_payments(view, ledger)
        for attempt in payments:  # a read of the gateway, before anything is decided
            await check_not_completed(gateway, attempt)
        order.request_payment(payment_id, at, ctx.actor)
        amount = amount_due(order, payments)
        if request.capture:
            await check_money_in(view, order, payment_id, amount, at)
        else:
            skus = [line.sku for line in order.lines]
            hold = OrderHold(order.id, order_lines(order))
            hold_lines(await load_stock(view, order.tenant_id, skus), hold, at + request.hold, at)
        seller = None
        if request.seller_id is not None:
            seller = await ready_seller(repo, ctx.tenant_id, request.seller_id)
        payee = None if seller is None else (seller.seller_id, seller.account_id)
        payment = Payment.create(
            payment_id,
            ctx.tenant_id,
            order.id,
            amount,
            request.fees,
            at,
            request.method,
            request.gateway_name,
            payee,
        )
        opening_destination(payment)  # refuses what the gateway call would refuse
        metadata = {
            "tenant_id": ctx.tenant_id,
            "order_id": str(order.id),
            "order_number": order.number,
            "payment_id": str(payment_id),
        }
        kind = EffectKind.CHARGE if request.capture else EffectKind.AUTHORIZE
        hold_until = None if request.capture else at + request.hold
        payment.request_opening(kind, request.token, metadata, at, hold_until)
        ledger.add_payment(payment_id)
        waiting = [p for p in payments if _waits_for_customer(p)]
        for replaced in waiting:
            replaced.request_void(at)
        await view.save(
            order,
            ledger,
            payment,
            *waiting,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        saved = Saved(payment, order, ledger, stock, mark)
        return saved, [replaced.id for replaced in waiting]

    return await retry_on_conflict(decide, attempts=DECISION_ATTEMPTS)


def _first_read(ctx: CommandContext, order_id: UUID, payment_id: UUID) -> list[UUID]:
    """The order and its ledger, and the payment when its id derives from an idempotency
    key (without one the id is new: nothing to find)."""
    streams = [order_id, OrderLedger.id_for(order_id)]
    if ctx.idempotency_key is not None:
        streams.append(payment_id)
    return streams


def _waits_for_customer(payment: Payment) -> bool:
    return payment.status is PaymentStatus.PENDING and payment.requires_action


async def _replay(gateway: PaymentGateway, payment: Payment) -> PaymentResult:
    """The outcome of a payment command that ran before (same idempotency key)."""
    if payment.status is PaymentStatus.FAILED:
        raise PaymentDeclinedError(payment.decline_code)
    secret = None
    gateway_id = payment.gateway_payment_id
    if payment.requires_action and gateway_id is not None:
        view: GatewayPayment = await call_gateway(lambda: gateway.retrieve(gateway_id))
        secret = view.client_secret
    return PaymentResult(payment, secret)


async def get_payment(repo: Repository, tenant_id: str, payment_id: UUID) -> Payment:
    """``GET /payments/{id}``; ``AggregateNotFoundError`` if not one of the tenant's."""
    return await load_payment(repo, tenant_id, payment_id)


async def order_payments(repo: Repository, tenant_id: str, order_id: UUID) -> list[Payment]:
    """``GET /orders/{id}/payments``: every payment attempt of the order, oldest first."""
    order = await load_order(repo, tenant_id, order_id)
    return await load_payments(repo, await load_ledger(repo, order))
