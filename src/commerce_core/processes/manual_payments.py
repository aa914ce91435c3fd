"""Money that arrives outside a card gateway: bank transfers and cash on delivery.

The order waits in ``pending_payment`` (placed with ``payment_method``
``bank_transfer`` or ``cash_on_delivery``); no payment exists until money is
received. Staff then record the receipt: a ``Payment`` of that method is created
and charged at once (``Authorized`` + ``Captured``, platform fee as for cards) and
the order records the money, taking its stock once paid in full, in one append.
The payment's ``gateway`` is the method's name and its ``gateway_payment_id`` the
receipt's reference (the bank's transaction reference; a cash receipt number).

- A reference is recorded once per method and tenant (``PaymentReference``): the
  same receipt recorded again returns the payment recorded for it; the same
  reference with another order or amount is refused (``DuplicateReferenceError``).
- The receipt must fit the order: awaiting payment, at most what it still owes
  (``InvalidTransitionError``, ``OverpaymentError``), or nothing is recorded. Stock
  that ran out meanwhile does not refuse money already received: the result then
  carries an ``attention`` note, as for cards.
- Cash on delivery: the order ships unpaid and each delivered parcel records its
  cash by itself (``cash_on_delivery``). Staff record cash by hand when it comes
  another way: paid at the counter, or a courier reporting a parcel's cash late.
  Naming the parcel (``shipment_id``) records it as that parcel's collection (same
  payment id, same amount as its delivery would take), so its delivery, before or
  after, records nothing more; see docs/adr/0003 and 0011.
- Money sent back by hand (a bank transfer back, cash back) is recorded with
  ``record_manual_refund``; card gateways are never asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.fulfilment.loading import load_shipments
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.money_received import take_order_stock
from commerce_core.ordering.order import AWAITING_PAYMENT, Order, OrderStatus
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.loading import load_payment, load_payments
from commerce_core.payments.payment import Payment
from commerce_core.payments.reference import PaymentReference
from commerce_core.payments.refund_effects import (
    RefundConfirmed,
    RefundResult,
    confirm_refund,
    has_refund,
)
from commerce_core.payments.results import NothingToPayError, PaymentResult, amount_due
from commerce_core.processes.cash_on_delivery import (
    CashCollection,
    cash_for,
    collection_id,
    record_collection,
)
from commerce_core.shared.command_ids import effect_id, new_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.loading import find_owned, load_owned
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import PaymentMethod

MANUAL_METHODS = frozenset({PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH_ON_DELIVERY})


@dataclass(frozen=True, kw_only=True)
class ManualPaymentServices:
    """The ports of recording money received or sent back by hand (no gateway)."""

    repo: Repository
    clock: Clock
    ids: Ids


class DuplicateReferenceError(DomainError):
    """This receipt reference was recorded already, for another order or amount."""

    def __init__(self, reference: str, payment_id: UUID) -> None:
        super().__init__(f"reference {reference!r} is recorded already (payment {payment_id})")
        self.reference = reference
        self.payment_id = payment_id


class NotManualPaymentError(DomainError):
    """A card payment: its refunds go through its gateway, not by hand."""

    def __init__(self, payment_id: UUID) -> None:
        super().__init__(f"payment {payment_id} is a card payment: refund it through its gateway")
        self.payment_id = payment_id


class ManualReceipt(msgspec.Struct, frozen=True, kw_only=True):
    """Money received by hand. ``amount`` in minor units of the order's currency
    (default: what the order still owes, or the parcel's share); ``reference`` is
    required for bank transfers; ``shipment_id`` names the parcel whose cash on
    delivery this is."""

    method: PaymentMethod
    reference: str | None = None
    amount: int | None = None
    shipment_id: UUID | None = None

    def check(self) -> None:
        if self.method not in MANUAL_METHODS:
            raise InvalidValueError(f"{self.method} is not a manual payment method")
        if self.method is PaymentMethod.BANK_TRANSFER and not self.reference:
            raise InvalidValueError("a bank transfer needs the bank's reference")
        if self.shipment_id is not None and self.method is not PaymentMethod.CASH_ON_DELIVERY:
            raise InvalidValueError("only cash on delivery is collected for a shipment")
        if self.amount is not None and self.amount <= 0:
            raise InvalidValueError("a payment amount must be positive")


class ManualRefund(msgspec.Struct, frozen=True, kw_only=True):
    """Money of a manual payment sent back by hand: ``amount`` in minor units of its
    currency, why, and the transfer's or receipt's ``reference``."""

    amount: int
    reason: str | None = None
    reference: str | None = None


async def record_manual_payment(
    services: ManualPaymentServices,
    ctx: CommandContext,
    order_id: UUID,
    receipt: ManualReceipt,
    fees: FeeSchedule,
) -> PaymentResult:
    """Records a bank transfer or cash received for the order; the payment as captured,
    priced with ``fees`` (the tenant's schedule).

    With a ``shipment_id``, the cash collected for that parcel of a cash-on-delivery
    order: recorded once, whether its delivery or this receipt comes first."""
    repo = services.repo
    receipt.check()
    if receipt.shipment_id is not None:
        payment_id = collection_id(receipt.shipment_id)
    else:
        payment_id = new_id(ctx, services.ids, f"manual-payment:{order_id}")
    if (earlier := await _recorded(repo, ctx.tenant_id, payment_id, order_id)) is not None:
        return PaymentResult(earlier)  # the same request again (same key, or same parcel)
    at = services.clock.now()

    async def record() -> PaymentResult:
        if (earlier := await _recorded(repo, ctx.tenant_id, payment_id, order_id)) is not None:
            return PaymentResult(earlier)
        order = await load_order(repo, ctx.tenant_id, order_id)
        wanted = _amount(receipt, order.currency)
        linked = await _recorded_for(repo, ctx.tenant_id, receipt)
        if linked is not None:
            if linked.order_id == order.id and wanted in (None, linked.amount):
                return PaymentResult(linked)  # this receipt, recorded before
            raise DuplicateReferenceError(receipt.reference or "", linked.id)
        # a card payment under way may be taking this money right now
        order.check_no_payment_in_progress()
        ledger = await load_ledger(repo, order)
        if receipt.shipment_id is not None:
            payment = await _collect(repo, order, ledger, receipt, wanted, fees, ctx.actor, at)
        else:
            amount = wanted or _due(order, await load_payments(repo, ledger))
            method = receipt.method
            payment = Payment.create(
                payment_id, ctx.tenant_id, order.id, amount, fees, at, method, method.value
            )
            order.mark_paid(amount, payment_id, at, ctx.actor)  # a refusal raises: nothing saved
            payment.charge(receipt.reference, at)
            ledger.add_payment(payment_id)
        touched: list[StockItem] = []
        note: str | None = None
        if order.status is OrderStatus.PAID:
            touched, note = await take_order_stock(repo, order, ledger, at)
        await repo.save(
            payment,
            order,
            ledger,
            *_reference(payment),
            *touched,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        return PaymentResult(payment, attention=note)

    return await retry_on_conflict(record)


async def record_manual_refund(
    services: ManualPaymentServices, ctx: CommandContext, payment_id: UUID, refund: ManualRefund
) -> RefundResult:
    """Records money of a bank transfer or cash payment sent back by hand; the order
    records the refund. ``RefundExceedsCapturedError`` beyond what is refundable,
    ``NotManualPaymentError`` for a card payment."""
    repo, reason = services.repo, refund.reason
    payment = await load_payment(repo, ctx.tenant_id, payment_id)
    if payment.method not in MANUAL_METHODS:
        raise NotManualPaymentError(payment_id)
    refund_id = effect_id(ctx, payment, "manual-refund")
    if has_refund(payment, refund_id):
        return RefundResult.of(payment, refund_id)
    wanted = Money(refund.amount, payment.currency)
    at = services.clock.now()

    async def record() -> RefundResult:
        payment = await load_payment(repo, ctx.tenant_id, payment_id)
        if has_refund(payment, refund_id):
            return RefundResult.of(payment, refund_id)
        payment.refund(refund_id, wanted, at, reason)
        # What the order would refuse (disputed, not paid) refuses the refund: checked on a
        # copy, since ``confirm_refund`` reports an order's refusal instead of raising it.
        check = await load_order(repo, ctx.tenant_id, payment.order_id)
        check.record_refund(wanted, at, refund_id, reason, ctx.actor)
        order = await load_order(repo, ctx.tenant_id, payment.order_id)
        confirmed = RefundConfirmed(refund.reference, at, ctx.actor)
        note = confirm_refund(payment, order, refund_id, confirmed)
        await repo.save(
            payment, order, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key
        )
        return RefundResult.of(payment, refund_id, note)

    return await retry_on_conflict(record)


async def _recorded(
    repo: Repository, tenant_id: str, payment_id: UUID, order_id: UUID
) -> Payment | None:
    """The payment this receipt recorded before; a parcel's cash recorded for another
    order (its shipment named with the wrong order) is refused."""
    earlier = await find_owned(repo, tenant_id, payment_id, Payment)
    if earlier is not None and earlier.order_id != order_id:
        raise InvalidValueError(f"payment {payment_id} belongs to another order")
    return earlier


def _amount(receipt: ManualReceipt, currency: str) -> Money | None:
    return None if receipt.amount is None else Money(receipt.amount, currency)


def _due(order: Order, payments: list[Payment]) -> Money:
    """What a receipt without an amount takes: what the order owes beyond open
    authorizations; for a cash-on-delivery order on its way, all it owes."""
    if order.status in AWAITING_PAYMENT or not order.accepts_payment:
        return amount_due(order, payments)  # refuses an order that takes no money
    if order.outstanding.amount <= 0:
        raise NothingToPayError(f"order {order.number} owes nothing")
    return order.outstanding


async def _collect(
    repo: Repository,
    order: Order,
    ledger: OrderLedger,
    receipt: ManualReceipt,
    wanted: Money | None,
    fees: FeeSchedule,
    actor: str,
    at: datetime,
) -> Payment:
    """The cash of one parcel (``receipt.shipment_id``), recorded as its delivery would."""
    assert receipt.shipment_id is not None
    shipment = await load_owned(repo, order.tenant_id, receipt.shipment_id, Shipment)
    if shipment.order_id != order.id or not order.is_cash_on_delivery:
        raise InvalidValueError(
            f"shipment {shipment.id} is not a cash-on-delivery parcel of order {order.number}"
        )
    amount = wanted or cash_for(order, ledger, await load_shipments(repo, order), shipment)
    if amount.is_zero:
        raise NothingToPayError(f"order {order.number} owes nothing for shipment {shipment.id}")
    cash = CashCollection(shipment.id, amount, at, actor, receipt.reference)
    return record_collection(order, ledger, cash, fees)


async def _recorded_for(repo: Repository, tenant_id: str, receipt: ManualReceipt) -> Payment | None:
    """The payment already recorded with this receipt's reference, if any."""
    if not receipt.reference:
        return None
    reference_id = PaymentReference.id_for(tenant_id, receipt.method.value, receipt.reference)
    try:
        reference = await repo.get(reference_id, kind=PaymentReference)
    except AggregateNotFoundError:
        return None
    return await find_owned(repo, tenant_id, reference.payment_id, Payment)


def _reference(payment: Payment) -> list[PaymentReference]:
    if payment.gateway_payment_id is None:
        return []
    return [
        PaymentReference.link(
            payment.tenant_id, payment.gateway, payment.gateway_payment_id, payment.id
        )
    ]
