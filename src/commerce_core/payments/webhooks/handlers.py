"""What each kind of gateway event records on the payment, the order and the stock.

Each handler changes the loaded aggregates (its ``EventTarget``) in memory
(``record_gateway_event`` saves them in one append) and passes the event id as
the payment command's ``event_ref``, so the payment remembers the event as
processed. A handler whose change the state already shows records nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from commerce_core.eventstore import Repository
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.money_received import IncomingMoney, receive_money
from commerce_core.ordering.order import AWAITING_PAYMENT, DisputeOutcome, Order
from commerce_core.payments.payment import DisputeStatus, Payment, PaymentStatus, RefundStatus
from commerce_core.payments.ports.gateway import GatewayPayment, GatewayStatus
from commerce_core.payments.refund_effects import RefundConfirmed, confirm_refund, has_refund
from commerce_core.payments.services import AUTHORIZATION_HOLD, hold_for_authorization
from commerce_core.payments.sync import sync_payment
from commerce_core.shared.errors import DomainError
from commerce_core.shared.money import Money

if TYPE_CHECKING:
    from commerce_core.payments.ports.webhooks import GatewayEvent

_OUTSIDE_REFUNDS = uuid5(NAMESPACE_URL, "https://commerce-core.dev/gateway-refunds")


@dataclass(frozen=True)
class EventTarget:
    """What a gateway event is recorded on: its payment, the payment's order and the
    order's ledger, loaded together and saved together."""

    payment: Payment
    order: Order
    ledger: OrderLedger


@dataclass
class Changes:
    """Stock items to save besides the payment, order and ledger; a note for an operator."""

    items: list[StockItem] = field(default_factory=list)
    attention: str | None = None


Handler = Callable[[Repository, EventTarget, "GatewayEvent", datetime, str], Awaitable[Changes]]


def _view(
    payment: Payment, event: GatewayEvent, status: GatewayStatus, captured: Money
) -> GatewayPayment:
    return GatewayPayment(
        gateway_payment_id=event.gateway_payment_id,
        status=status,
        amount=payment.amount,
        captured=captured,
        refunded=payment.refunded,
        decline_code=event.code,
        gateway_fee=event.gateway_fee,
    )


async def payment_authorized(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """3-D Secure done for an authorization: authorized, and the stock held for the capture."""
    payment, order = target.payment, target.order
    was = payment.status
    view = _view(payment, event, GatewayStatus.AUTHORIZED, payment.captured)
    sync_payment(payment, view, at, event.id)
    if was is PaymentStatus.PENDING and payment.status is PaymentStatus.AUTHORIZED:
        items, note = await hold_for_authorization(repo, order, at + AUTHORIZATION_HOLD, at)
        return Changes(items, note)
    return Changes()


async def payment_succeeded(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """Money captured (a charge after 3-D Secure, or a capture): the order records it."""
    payment = target.payment
    total = event.amount or payment.amount
    view = _view(payment, event, GatewayStatus.CAPTURED, total)
    captured = sync_payment(payment, view, at, event.id)
    if captured.is_zero and total > payment.captured:
        return Changes(attention=f"the gateway captured {total} on a {payment.status} payment")
    money = IncomingMoney(payment.id, captured, at, actor)
    items, note = await receive_money(repo, target.order, target.ledger, money)
    return Changes(items, note)


async def payment_failed(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """A pending payment failed (declined, or 3-D Secure failed); the order may be paid again."""
    payment, order = target.payment, target.order
    if payment.status is PaymentStatus.PENDING:
        payment.fail(event.code, at, event.gateway_payment_id, event.id)
        if order.status in AWAITING_PAYMENT:
            order.mark_payment_failed(event.code, at, payment.id, actor)
    return Changes()


async def payment_voided(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """The gateway cancelled a payment before capture (an authorization released or
    expired, a 3-D Secure never completed): voided, as our void command records it; the
    order still owes its total and its stock stays held (see ``payment_voids``).

    Stripe cannot cancel a captured PaymentIntent nor capture a cancelled one, so a
    payment has either event, never both; a void arriving after a capture or a failure
    changes nothing, and a capture after a void is left voided with a note
    (``payment_succeeded``). A pending payment whose last attempt was declined
    (``code``) fails, as the decline's own event records it, so both events end the
    same in either order.
    """
    payment = target.payment
    if payment.status is PaymentStatus.PENDING and event.code is not None:
        return await payment_failed(repo, target, event, at, actor)
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.AUTHORIZED):
        payment.void(at, event.id)
    elif payment.status not in (PaymentStatus.VOIDED, PaymentStatus.FAILED):
        return Changes(attention=f"the gateway cancelled a {payment.status} payment")
    return Changes()


def _refund_id(payment: Payment, ledger: OrderLedger, event: GatewayEvent) -> UUID | None:
    if event.refund_id is not None:
        return event.refund_id
    if event.gateway_refund_id is None:
        return None
    linked = ledger.refund_for(event.gateway_refund_id)
    if linked is not None:
        return linked
    for refund in payment.refunds:
        if refund.gateway_refund_id == event.gateway_refund_id:
            return refund.id
    return None


async def refund_succeeded(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """A refund went through. One naming our refund id that the payment lacks (the
    gateway refunded, our save failed) is recorded under that id, so our command run
    again finds it done; one we never asked for (made at the gateway) is recorded anew."""
    payment, ledger = target.payment, target.ledger
    refund_id = _refund_id(payment, ledger, event)
    if refund_id is None or not has_refund(payment, refund_id):
        if event.gateway_refund_id is None or event.amount is None:
            return Changes(attention="a refund event without a refund id or amount")
        reason = None
        if refund_id is None:
            refund_id = uuid5(_OUTSIDE_REFUNDS, f"{event.gateway}:{event.gateway_refund_id}")
            reason = "refunded at the gateway"
        payment.refund(refund_id, event.amount, at, reason)
        ledger.link_refund(event.gateway_refund_id, refund_id)
    if payment.refund_by_id(refund_id).status is not RefundStatus.PENDING:
        return Changes()
    confirmed = RefundConfirmed(event.gateway_refund_id, at, actor, event.id)
    note = confirm_refund(payment, target.order, refund_id, confirmed)
    return Changes(attention=note)


async def refund_failed(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """A pending refund failed: its amount is refundable again. A refund recorded as
    succeeded that the gateway later fails is left for an operator."""
    payment = target.payment
    refund_id = _refund_id(payment, target.ledger, event)
    if refund_id is None or not has_refund(payment, refund_id):
        return Changes()  # no money moved; our own call records its refund as failed
    status = payment.refund_by_id(refund_id).status
    if status is RefundStatus.PENDING:
        payment.fail_refund(refund_id, at, event.code, event.id)
    elif status is RefundStatus.SUCCEEDED:
        return Changes(attention=f"refund {refund_id} failed at the gateway after it succeeded")
    return Changes()


def _open_dispute(
    target: EventTarget, event: GatewayEvent, at: datetime, actor: str, ref: str | None
) -> str | None:
    payment, order = target.payment, target.order
    amount = event.amount or payment.refundable
    reason = event.code or "unknown"
    payment.open_dispute(event.dispute_id or event.id, amount, reason, at, ref)
    try:
        order.open_dispute(reason, at, actor)
    except DomainError as refused:
        return f"order {order.number} did not record the dispute ({refused})"
    return None


async def dispute_opened(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """The cardholder disputed the payment: payment and order are disputed."""
    if target.payment.dispute is not None:
        return Changes()
    return Changes(attention=_open_dispute(target, event, at, actor, event.id))


async def dispute_closed(
    repo: Repository, target: EventTarget, event: GatewayEvent, at: datetime, actor: str
) -> Changes:
    """The dispute was decided; opened first if its opening event has not arrived yet."""
    payment, order = target.payment, target.order
    note = None
    if event.outcome is None:
        return Changes(attention="a closed dispute without an outcome")
    if payment.dispute is None:
        note = _open_dispute(target, event, at, actor, None)
    assert payment.dispute is not None
    if payment.dispute.status is not DisputeStatus.OPEN:
        return Changes(attention=note)
    outcome = DisputeOutcome(event.outcome)
    if outcome is DisputeOutcome.WON:
        payment.win_dispute(at, event.id)
    else:
        payment.lose_dispute(at, event.id)
    try:
        order.close_dispute(outcome, at, actor)
    except DomainError as refused:
        note = f"order {order.number} did not record the dispute's end ({refused})"
    return Changes(attention=note)
