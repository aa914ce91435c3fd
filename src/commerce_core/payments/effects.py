"""Making a payment's gateway calls after their intents are recorded (ADR 0016).

A command decides and records an intent (``Payment.request_*``) with the decision
that needs it; ``run_effect`` then makes the call and records what came of it:

1. the gateway is asked with the intent's key (asked again when no answer came:
   the key makes a repeat return the first outcome, so money moves once);
2. the outcome is recorded on the payment and the follow-ups on the order, its
   ledger and its stock (money received, stock taken or held, refund recorded,
   payment failed), and the intent closed, all in one append;
3. if that append loses a race, the outcome is recorded on the payment alone (the
   payment's stream is contended only by calls about the same payment, which retry
   without asking the gateway again), then the follow-ups, each retried. Follow-ups
   are idempotent by state: they compare the order with the payment and record the
   difference, so running them twice records nothing more.

No answer from the gateway, or races lost every time, leave the intent open:
``EffectRun.pending``. ``recover_payment`` (the recovery worker) finishes such
intents later with the same keys. Nothing here ever asks the gateway for a
decision that is not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from commerce_core.eventstore import ConcurrencyError, Repository
from commerce_core.eventstore.preloaded import preload
from commerce_core.inventory.order_stock import OrderHold, hold_lines, load_stock
from commerce_core.inventory.stock import InsufficientStockError, StockItem
from commerce_core.inventory.stock_turns import STOCK_TURNS
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.loading import load_order_and_ledger
from commerce_core.ordering.money_received import (
    IncomingMoney,
    order_lines,
    owes_stock,
    receive_money,
    take_order_stock,
)
from commerce_core.ordering.order import AWAITING_PAYMENT, Order
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.destinations import opening_destination, reverses_transfer
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.gateway_refunds import refund_metadata
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import (
    EffectKind,
    Payment,
    PaymentEffect,
    PaymentStatus,
    RefundStatus,
)
from commerce_core.payments.payment.payment import REFUSED
from commerce_core.payments.ports.gateway import (
    GatewayPayment,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
    PaymentGateway,
)
from commerce_core.payments.reference import PaymentReference
from commerce_core.payments.sync import sync_payment
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict

Answer = GatewayPayment | GatewayRefund | GatewayRequestError | None
"""What the gateway said; ``None``: a void of a payment the gateway never saw."""

_OPENING = (EffectKind.AUTHORIZE, EffectKind.CHARGE)
_BRINGING_MONEY = (EffectKind.CHARGE, EffectKind.CAPTURE)


@dataclass(frozen=True)
class EffectRun:
    """How far one intent got.

    ``pending``: the gateway gave no answer (or the outcome could not be recorded yet);
    the intent stays open and recovery finishes it. ``refused``: the gateway refused
    the request itself (nothing moved). ``client_secret``: for 3-D Secure, straight
    from the gateway's answer, never stored. ``attention``: money moved but the order
    or its stock could not follow; an operator acts.
    """

    payment: Payment
    pending: bool = False
    refused: GatewayRequestError | None = None
    client_secret: str | None = None
    attention: str | None = None


@dataclass(frozen=True)
class Saved:
    """What the command that recorded an intent holds, as it just saved it: the payment,
    the order and ledger saved with it, and a view answering the order's stock from the
    command's own read (``Preloaded.subset``). The run starts from these instead of
    reading them again (ADR 0047); every append still carries the versions they were
    at, so a stale copy only makes an append lose its race and the retry read afresh."""

    payment: Payment
    order: Order | None = None
    ledger: OrderLedger | None = None
    stock: Repository | None = None
    stock_mark: int = 0  # ``STOCK_TURNS.mark()`` before the stock was read


async def run_effect(
    ports: PaymentServices,
    ctx: CommandContext,
    payment_id: UUID,
    key: str,
    saved: Saved | None = None,
) -> EffectRun:
    """Makes the gateway call of the payment's open intent ``key`` and records its
    outcome and follow-ups; an intent already closed returns the payment as it is.
    ``saved``: what the caller just saved (saves the reads; see ``Saved``)."""
    payment = saved.payment if saved else await load_payment(ports.repo, ctx.tenant_id, payment_id)
    effect = payment.effect(key)
    if effect is None:
        return EffectRun(payment)
    answer: Answer = None
    if effect.answer is None:
        try:
            answer = await _ask(ports.gateway, payment, effect)
        except GatewayUnavailableError:
            return EffectRun(payment, pending=True)
    at = ports.clock.now()
    secret = answer.client_secret if isinstance(answer, GatewayPayment) else None
    refused = answer if isinstance(answer, GatewayRequestError) else None
    try:
        first = Saved(payment) if saved is None else saved
        payment, note = await _record_and_settle(ports, ctx, payment_id, key, answer, at, first)
    except ConcurrencyError:
        try:
            if answer is not None or effect.kind is EffectKind.VOID:
                await retry_on_conflict(
                    lambda: _record_only(ports, ctx, payment_id, key, answer, at),
                    attempts=DECISION_ATTEMPTS,
                )
            payment, note = await retry_on_conflict(  # calls nothing outside: retry freely
                lambda: _record_and_settle(ports, ctx, payment_id, key, answer, at),
                attempts=DECISION_ATTEMPTS,
            )
        except ConcurrencyError:
            payment = await load_payment(ports.repo, ctx.tenant_id, payment_id)
            return EffectRun(payment, pending=True, refused=refused, client_secret=secret)
    return EffectRun(payment, refused=refused, client_secret=secret, attention=note)


async def recover_payment(ports: PaymentServices, ctx: CommandContext, payment_id: UUID) -> Payment:
    """Finishes every open intent of a payment, oldest first (the recovery worker)."""
    payment = await load_payment(ports.repo, ctx.tenant_id, payment_id)
    for effect in payment.open_effects:
        payment = (await run_effect(ports, ctx, payment_id, effect.key)).payment
    return payment


async def abandon_effect(
    ports: PaymentServices, ctx: CommandContext, payment_id: UUID, key: str, why: str
) -> Payment:
    """Closes an intent whose call was never made and is no longer wanted (the order was
    paid meanwhile), recording it as refused with ``why``."""
    at = ports.clock.now()
    refused = GatewayRequestError(why)
    payment, _ = await retry_on_conflict(
        lambda: _record_and_settle(ports, ctx, payment_id, key, refused, at)
    )
    return payment


# Asking the gateway


async def _ask(gateway: PaymentGateway, payment: Payment, effect: PaymentEffect) -> Answer:
    try:
        return await _call(gateway, payment, effect)
    except GatewayRequestError as refused:
        return refused


async def _call(gateway: PaymentGateway, payment: Payment, effect: PaymentEffect) -> Answer:
    key = effect.key
    gateway_id = payment.gateway_payment_id
    if effect.kind in _OPENING:
        call = gateway.charge if effect.kind is EffectKind.CHARGE else gateway.authorize
        token = effect.token or ""
        destination = opening_destination(payment)
        return await call_gateway(
            lambda: call(payment.amount, token, key, effect.metadata, destination=destination)
        )
    if effect.kind is EffectKind.VOID:
        return await _void(gateway, payment, key)
    if gateway_id is None:
        raise GatewayRequestError("resource_missing", f"payment {payment.id} has no gateway id")
    if effect.kind is EffectKind.CAPTURE:
        amount, fee, final = effect.amount, effect.fee, effect.final
        return await call_gateway(
            lambda: gateway.capture(gateway_id, amount, key, fee, final=final)
        )
    assert effect.refund_id is not None
    assert effect.amount is not None
    refund = payment.refund_by_id(effect.refund_id)
    metadata = refund_metadata(payment, refund.id)
    reverse = reverses_transfer(payment)
    amount = effect.amount
    return await call_gateway(
        lambda: gateway.refund(
            gateway_id, amount, key, refund.reason, reverse_transfer=reverse, metadata=metadata
        )
    )


async def _void(gateway: PaymentGateway, payment: Payment, key: str) -> GatewayPayment | None:
    """Voids at the gateway, asking first what it knows: the customer may have finished
    3-D Secure meanwhile, and a payment that failed, was voided or was captured there
    only needs recording."""
    gateway_id = payment.gateway_payment_id
    if gateway_id is None:
        return None
    view = await call_gateway(lambda: gateway.retrieve(gateway_id))
    if view.status in (GatewayStatus.FAILED, GatewayStatus.VOIDED, GatewayStatus.CAPTURED):
        return view
    return await call_gateway(lambda: gateway.void(gateway_id, key))


# Recording


def _record(
    payment: Payment, effect: PaymentEffect, answer: Answer, at: datetime
) -> tuple[str, list[PaymentReference]]:
    """Records the gateway's answer on the payment; returns the outcome's name and, when
    the gateway's id for the payment is first known, the reference webhooks find it by."""
    key = effect.key
    known = payment.gateway_payment_id
    if isinstance(answer, GatewayRequestError):
        if effect.kind in _OPENING and payment.status is PaymentStatus.PENDING:
            payment.fail(answer.code, at, None, key)
        elif effect.kind is EffectKind.REFUND and _refund_pending(payment, effect):
            assert effect.refund_id is not None
            payment.fail_refund(effect.refund_id, at, answer.code)
        outcome = f"{REFUSED}:{answer.code}"
    elif isinstance(answer, GatewayRefund):
        assert effect.refund_id is not None
        refund = payment.refund_by_id(effect.refund_id)
        if refund.status is RefundStatus.PENDING:
            if answer.status is GatewayRefundStatus.SUCCEEDED:
                payment.confirm_refund(refund.id, answer.gateway_refund_id, at, key)
            elif answer.status is GatewayRefundStatus.FAILED:
                payment.fail_refund(refund.id, at, answer.failure_code)
        outcome = answer.status.value
    elif isinstance(answer, GatewayPayment):
        sync_payment(payment, answer, at, key)
        outcome = answer.status.value
    else:
        if payment.status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
            payment.void(at, key)
        outcome = PaymentStatus.VOIDED.value
    gateway_id = payment.gateway_payment_id
    if gateway_id is None or gateway_id == known:
        return outcome, []
    return outcome, [
        PaymentReference.link(payment.tenant_id, payment.gateway, gateway_id, payment.id)
    ]


def _refund_pending(payment: Payment, effect: PaymentEffect) -> bool:
    refund_id = effect.refund_id
    return refund_id is not None and payment.refund_by_id(refund_id).status is RefundStatus.PENDING


async def _record_only(
    ports: PaymentServices,
    ctx: CommandContext,
    payment_id: UUID,
    key: str,
    answer: Answer,
    at: datetime,
) -> None:
    payment = await load_payment(ports.repo, ctx.tenant_id, payment_id)
    effect = payment.effect(key)
    if effect is None or effect.answer is not None:
        return
    outcome, references = _record(payment, effect, answer, at)
    payment.answer(key, outcome, at)  # only the follow-ups remain (recovery: no call)
    await ports.repo.save(payment, *references, metadata=ctx.metadata())


async def _record_and_settle(
    ports: PaymentServices,
    ctx: CommandContext,
    payment_id: UUID,
    key: str,
    answer: Answer,
    at: datetime,
    loaded: Saved | None = None,
) -> tuple[Payment, str | None]:
    repo = ports.repo
    payment = loaded.payment if loaded else await load_payment(repo, ctx.tenant_id, payment_id)
    effect = payment.effect(key)
    if effect is None:
        return payment, None  # finished meanwhile (a concurrent run, or recovery)
    outcome = effect.answer
    references: list[PaymentReference] = []
    if outcome is None:
        outcome, references = _record(payment, effect, answer, at)
    if loaded and loaded.order is not None and loaded.ledger is not None:
        order, ledger = loaded.order, loaded.ledger
    else:
        order, ledger = await load_order_and_ledger(repo, ctx.tenant_id, payment.order_id)
    stock, mark = repo, STOCK_TURNS.mark()
    if loaded and loaded.stock is not None:
        stock, mark = loaded.stock, loaded.stock_mark
    items, note = await _follow_up(stock, payment, order, ledger, effect, answer, at, ctx.actor)
    if effect.kind in _BRINGING_MONEY and owes_stock(order, ledger):
        # The order is paid; its stock is taken by a second append that closes the intent,
        # so this one never races the order's hot stock items (ADR 0046).
        payment.answer(key, outcome, at)
        await repo.save(payment, order, ledger, *references, *items, metadata=ctx.metadata())
        return await _take_stock(ports, ctx, _Paid(payment, order, ledger, key, stock, mark))
    payment.complete(key, outcome, at)
    await repo.save(payment, order, ledger, *references, *items, metadata=ctx.metadata())
    return payment, note


@dataclass
class _Paid:
    """A payment whose intent ``key`` paid ``order``, as just saved (``_take_stock``)."""

    payment: Payment
    order: Order
    ledger: OrderLedger
    key: str
    stock: Repository  # reads the order's stock: the command's read (Saved.stock), or the store
    stock_mark: int  # STOCK_TURNS.mark() before that read


async def _take_stock(
    ports: PaymentServices, ctx: CommandContext, paid: _Paid
) -> tuple[Payment, str | None]:
    """Takes the paid order's stock and closes the intent, in one append (ADR 0046). Only
    the stock's load and the append run in the turn of the order's SKUs: the first attempt
    works on the aggregates as just saved, a retry reloads them first. Losing every race
    leaves the intent open with its outcome recorded: recovery takes the stock later, once."""
    repo, key = ports.repo, paid.key
    skus = [line.sku for line in paid.order.lines]
    saved = [paid]

    async def attempt() -> tuple[Payment, str | None]:
        stock = repo
        if saved:
            fresh = saved.pop()
            payment, order, ledger = fresh.payment, fresh.order, fresh.ledger
            if not STOCK_TURNS.written_since(ctx.tenant_id, skus, fresh.stock_mark):
                # the decision's read of the stock, unless a turn of the SKUs ended here since:
                # then the turn's kept items or a fresh read are current, that read is not
                stock = fresh.stock
        else:  # the payment, order and ledger in one read; the stock in the turn
            order_id = paid.order.id
            view = await preload(repo, [paid.payment.id, order_id, OrderLedger.id_for(order_id)])
            payment = await load_payment(view, ctx.tenant_id, paid.payment.id)
            order, ledger = await load_order_and_ledger(view, ctx.tenant_id, order_id)
        effect = payment.effect(key)
        if effect is None:
            return payment, None  # closed meanwhile (a concurrent run, or recovery)
        async with STOCK_TURNS.turn(ctx.tenant_id, skus):
            at = ports.clock.now()
            items: list[StockItem] = []
            note = None
            if owes_stock(order, ledger):
                items, note = await take_order_stock(stock, order, ledger, at)
            payment.complete(key, effect.answer or "", at)
            await repo.save(payment, ledger, *items, metadata=ctx.metadata())
        return payment, note

    try:
        return await retry_on_conflict(attempt, attempts=DECISION_ATTEMPTS)
    except ConcurrencyError:  # its in-memory copies may hold the lost attempt's changes
        return await load_payment(repo, ctx.tenant_id, paid.payment.id), None


# Follow-ups on the order, its ledger and its stock: by state, so repeats record nothing


async def _follow_up(
    repo: Repository,
    payment: Payment,
    order: Order,
    ledger: OrderLedger,
    effect: PaymentEffect,
    answer: Answer,
    at: datetime,
    actor: str,
) -> tuple[list[StockItem], str | None]:
    items: list[StockItem] = []
    note: str | None = None
    unrecorded = payment.captured - order.received_from(payment.id)
    if unrecorded.amount > 0:
        money = IncomingMoney(payment.id, unrecorded, at, actor)
        items, note = await receive_money(repo, order, ledger, money, take=False)
    if effect.kind in _OPENING and payment.id in order.payments_in_progress:
        if payment.status is PaymentStatus.FAILED and order.status in AWAITING_PAYMENT:
            order.mark_payment_failed(payment.decline_code, at, payment.id, actor)
        elif payment.status is PaymentStatus.AUTHORIZED and effect.hold_until is not None:
            items, note = await hold_for_authorization(repo, order, effect.hold_until, at)
        order.close_payment_request(payment.id, at)
    if effect.kind is EffectKind.REFUND and effect.refund_id is not None:
        note = _refund_follow_up(payment, order, ledger, effect.refund_id, answer, at, actor)
    return items, note


def _refund_follow_up(
    payment: Payment,
    order: Order,
    ledger: OrderLedger,
    refund_id: UUID,
    answer: Answer,
    at: datetime,
    actor: str,
) -> str | None:
    if isinstance(answer, GatewayRefund):
        ledger.link_refund(answer.gateway_refund_id, refund_id)
    refund = payment.refund_by_id(refund_id)
    if refund.status is not RefundStatus.SUCCEEDED or order.has_refund(refund_id):
        return None
    try:
        order.record_refund(refund.amount, at, refund_id, refund.reason, actor)
    except DomainError as refused:
        return f"order {order.number} did not record a refund of {refund.amount} ({refused})"
    return None


async def hold_for_authorization(
    repo: Repository, order: Order, until: datetime, at: datetime
) -> tuple[list[StockItem], str | None]:
    """Holds the authorized order's stock until ``until``; a note instead if it cannot."""
    if order.status not in AWAITING_PAYMENT:
        return [], f"order {order.number} is {order.status}: void this authorization"
    stock = await load_stock(repo, order.tenant_id, [line.sku for line in order.lines])
    try:
        hold = OrderHold(order.id, order_lines(order), order.fulfilment_plan)
        return hold_lines(stock, hold, until, at), None
    except InsufficientStockError as short:
        return [], f"order {order.number} is authorized but its stock ran out ({short})"
