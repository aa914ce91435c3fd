"""Cash on delivery: the order's stock leaves with its first parcel, cash comes in with each.

A cash-on-delivery order is confirmed and shipped before it is paid (its state
machine allows that for this method only, docs/adr/0003). So:

- **Stock.** Placing it holds its stock until it ships or is cancelled
  (``HELD_UNTIL_SHIPPED``: the hold never lapses, and no job cancels the order
  for being unpaid). Its first shipment takes all its units from stock, as
  payment does for other orders, in the shipment's append; an order paid in full
  before it shipped (cash at the counter) took its stock then.
- **Cash.** When a parcel is delivered, the cash the courier collected is recorded
  in the delivery's append: a ``Payment`` of method ``cash_on_delivery``, charged
  at once (``Authorized`` + ``Captured``: no gateway fee, the tenant's platform
  fee as for every payment), added to the order's ledger, and ``mark_paid`` on the
  order, which keeps its status. Its id derives from the shipment's
  (``collection_id``), so a delivery reported twice, or cash recorded by hand for
  that parcel (``POST /orders/{id}/payments/manual`` with its ``shipment_id``),
  records it once.
- **How much.** Each parcel collects its lines' share of the total; the
  collection that settles the order's last parcel collects all it still owes
  (``domain.order.cash_on_delivery``), so the collections add up to the total.
- A parcel with a delivery ``exception`` collects nothing; delivered later, it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from commerce_core.eventstore import Repository
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.inventory.order_stock import load_stock, take_lines
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.money_received import order_lines
from commerce_core.ordering.order import Order, OrderStatus
from commerce_core.ordering.order.cash_on_delivery import cash_due, shipment_shares
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.shared.money import Money
from commerce_core.shared.values import PaymentMethod

CASH = PaymentMethod.CASH_ON_DELIVERY
_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/cash-on-delivery")


@dataclass(frozen=True)
class CashCollection:
    """Cash collected for one parcel: how much, when, and who records it; ``reference``
    is the receipt's when staff record it by hand."""

    shipment_id: UUID
    amount: Money
    at: datetime
    actor: str
    reference: str | None = None


def collection_id(shipment_id: UUID) -> UUID:
    """The id of the payment that records the cash collected for one shipment."""
    return uuid5(_NAMESPACE, str(shipment_id))


def is_collected(ledger: OrderLedger, shipment_id: UUID) -> bool:
    return collection_id(shipment_id) in ledger.payment_ids


def cash_for(
    order: Order, ledger: OrderLedger, shipments: list[Shipment], shipment: Shipment
) -> Money:
    """What collecting ``shipment``'s cash takes now: its share of the total, or all the
    order still owes when every other parcel's cash is in and nothing is left to ship.
    ``shipments`` are all the order's shipments, oldest first."""
    shares = shipment_shares(order, [s.lines for s in shipments])
    share = shares[[s.id for s in shipments].index(shipment.id)]
    others_in = all(is_collected(ledger, s.id) for s in shipments if s.id != shipment.id)
    return cash_due(order, share, settles=order.is_fully_shipped and others_in)


def record_collection(
    order: Order, ledger: OrderLedger, cash: CashCollection, fees: FeeSchedule
) -> Payment:
    """Records the cash collected for the shipment: a captured payment priced with
    ``fees``, on the order and its ledger. Raises what the order refuses (more than it
    owes, a status that takes no cash) before anything is recorded."""
    payment_id = collection_id(cash.shipment_id)
    amount, at = cash.amount, cash.at
    payment = Payment.create(
        payment_id, order.tenant_id, order.id, amount, fees, at, CASH, CASH.value
    )
    order.mark_paid(amount, payment_id, at, cash.actor)
    payment.charge(cash.reference, at)
    ledger.add_payment(payment_id)
    return payment


def due_on_delivery(
    order: Order, ledger: OrderLedger, shipments: list[Shipment], shipment: Shipment
) -> Money | None:
    """The cash a delivered parcel of a cash-on-delivery order collects, to record with
    ``record_collection``; ``None`` when there is none to record: not cash on delivery,
    recorded already, nothing due, or an order that takes no cash now (disputed,
    refunded: staff settle those by hand)."""
    if not order.is_cash_on_delivery or not order.accepts_payment:
        return None
    if is_collected(ledger, shipment.id):
        return None
    due = cash_for(order, ledger, shipments, shipment)
    if due.is_zero:
        return None
    return due


async def take_stock_on_shipping(
    repo: Repository, order: Order, ledger: OrderLedger, at: datetime
) -> list[StockItem]:
    """Takes a cash-on-delivery order's units from stock with its first shipment; returns
    the stock items to save with it. Nothing for other orders (payment took theirs) or when
    this order took its stock already, or was paid in full before shipping (payment took it
    then). ``InsufficientStockError`` when its hold is gone and the units with it."""
    paid_first = any(change.status is OrderStatus.PAID for change in order.status_history)
    if not order.is_cash_on_delivery or ledger.taken or paid_first:
        return []
    lines = order_lines(order)
    stock = await load_stock(repo, order.tenant_id, [line.sku for line in lines])
    items = take_lines(stock, order.id, lines, at, order.fulfilment_plan)
    ledger.record_taken(lines)
    return items
