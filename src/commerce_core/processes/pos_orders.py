"""A POS order becomes our order (ADR 0037): ``import_pos_order``.

The order is placed on channel ``pos`` at the location the connection maps the POS
location to, priced at the till's prices, its stock taken from our store there; money
taken at the till is recorded as an external payment of the POS (gateway ``square`` /
``fake``, reference the tender's id), so the order is paid, in **one atomic append**.

- Idempotent by (tenant, POS, external id): the order id is derived from them, so the
  same POS order pulled twice (poll and webhook, two concurrent pulls) is one order; a
  lost race on the append finds the order saved and applies nothing more.
- A later version is applied as events: an open ticket paid later records the till
  payment and takes its held stock; money refunded at the till is recorded as a
  refund of the till payment (by its running total, so a repeat records nothing); an
  unpaid order cancelled at the till is cancelled.
- A sale we cannot take (too few units at that location, an item we do not sell) is
  recorded as an **oversell** on the connection (once per POS order) and reported,
  never dropped silently.
- Orders we pushed (``reference_id`` set) are never imported back.

This lives in ``processes`` rather than ``channels``: it writes orders, payments and
stock together, and ``channels`` sits below ``payments`` (ADR 0015).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from commerce_core.catalog.services import UnknownProductError, products_for
from commerce_core.channels.connections import Oversell, PosConnection, PosConnections
from commerce_core.channels.ports import PosOrder, PosOrderState
from commerce_core.customers.email_claim import EmailTakenError
from commerce_core.customers.order_customers import CustomerRef, CustomerResolver
from commerce_core.eventstore import Repository
from commerce_core.inventory.location_services import tenant_locations
from commerce_core.inventory.order_stock import (
    HELD_UNTIL_SHIPPED,
    hold_plan,
    load_stock,
    release_lines,
    sources_of,
    take_lines,
)
from commerce_core.inventory.routing import NoFulfilmentPlanError, plan_fulfilment
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.money_received import take_order_stock
from commerce_core.ordering.order import Channel, LineSpec, Order, OrderStatus, price_order
from commerce_core.ordering.ports.order_numbers import OrderNumbers
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.loading import load_payments
from commerce_core.payments.payment import Payment
from commerce_core.payments.refund_effects import RefundConfirmed, confirm_refund, has_refund
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.loading import find_owned
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import PaymentMethod, SkuQuantity, parse_sku

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/pos-orders")
ACTOR = "pos-sync"
ATTEMPTS = 16


class Outcome(StrEnum):
    IMPORTED = "imported"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    OVERSOLD = "oversold"
    SKIPPED = "skipped"


@dataclass(frozen=True, kw_only=True)
class PosImportServices:
    repo: Repository
    clock: Clock
    order_numbers: OrderNumbers
    keyring: Keyring
    connections: PosConnections
    fees: Callable[[str], Awaitable[FeeSchedule]]


def pos_order_id(tenant_id: str, pos: str, external_id: str) -> UUID:
    """Our order's id for a POS order: the same for every pull of it."""
    return uuid5(_NAMESPACE, f"{tenant_id}\x00{pos}\x00{external_id}")


def _walk_in(pos: str) -> CustomerRef:
    # A sale at the till names no customer: the tenant's walk-in customer of that POS.
    return CustomerRef(email=f"walk-in.{pos}@pos.invalid", name=f"Walk-in ({pos})")


def is_sku(value: str) -> bool:
    try:
        parse_sku(value)
    except InvalidValueError:
        return False
    return True


def _paid(order: PosOrder) -> Money:
    total = Money.zero(order.total.currency)
    for tender in order.tenders:
        total += tender.amount
    return total


TILL_METHOD = PaymentMethod.BANK_TRANSFER
"""How money taken at the till is recorded: as money received by hand, never as a card
payment, so no refund of it is ever asked of a card gateway (which does not hold it); it
goes back at the till (pulled as a refund) or by hand (``record_manual_refund``)."""


async def import_pos_order(
    services: PosImportServices, connection: PosConnection, pos_order: PosOrder
) -> Outcome:
    """Applies one pulled POS order (see the module's docstring). A sale our domain
    refuses (beyond the bounds, in a currency the product is not priced in...) is flagged
    like an oversell rather than raised: one bad sale must never stop the pull."""
    try:
        try:
            return await _import(services, connection, pos_order)
        except EmailTakenError:
            # two first imports raced to register the walk-in customer: it exists now
            return await _import(services, connection, pos_order)
    except DomainError as refused:
        return await _oversold(services, connection, pos_order, f"not importable: {refused}")


async def _import(
    services: PosImportServices, connection: PosConnection, pos_order: PosOrder
) -> Outcome:
    tenant_id, pos = str(connection.tenant_id), str(connection.pos)
    location = connection.details.location_map.get(pos_order.location_id)
    if pos_order.reference_id is not None or location is None:
        return Outcome.SKIPPED
    order_id = pos_order_id(tenant_id, pos, pos_order.external_id)
    repo = services.repo
    if await find_owned(repo, tenant_id, order_id, Order) is not None:
        return await _apply_change(services, tenant_id, order_id, pos_order)
    if pos_order.state in (PosOrderState.CANCELED, PosOrderState.DRAFT):
        return Outcome.SKIPPED  # never ours, and nothing left to take
    lines: list[SkuQuantity] = []
    for line in pos_order.lines:
        sku = line.sku or connection.details.item_map.get(line.item_id or "")
        if sku is None or not is_sku(sku):
            return await _oversold(services, connection, pos_order, f"{line.name!r} has no SKU")
        lines.append(SkuQuantity(parse_sku(sku), line.quantity))
    try:
        products = await products_for(repo, tenant_id, [line.sku for line in lines])
    except UnknownProductError as unknown:
        return await _oversold(services, connection, pos_order, str(unknown))
    specs = [
        LineSpec(
            sku=sku_line.sku,
            name=products[sku_line.sku].name,
            quantity=sku_line.quantity,
            unit_price=pos_line.unit_price,
            tax_rate_bps=0,  # the till's prices are what the customer paid
        )
        for sku_line, pos_line in zip(lines, pos_order.lines, strict=True)
    ]
    priced = price_order(specs, pos_order.total.currency, shipping=None)
    fees = await services.fees(tenant_id)
    ctx = CommandContext(tenant_id=tenant_id, actor=ACTOR)
    customers = CustomerResolver(repo, services.keyring, tenant_id, uuid4())
    locations = await tenant_locations(repo, tenant_id)
    number = await services.order_numbers.next(tenant_id)
    paid = _paid(pos_order)

    async def attempt() -> UUID | None:
        if await find_owned(repo, tenant_id, order_id, Order) is not None:
            return None  # the same POS order, imported concurrently
        at = services.clock.now()
        customer = await customers.resolve(_walk_in(pos), at)
        stock = await load_stock(repo, tenant_id, products)
        here = [s for s in sources_of(stock, locations, at) if s.location_id == location]
        plan = plan_fulfilment(lines, here, None)
        touched = hold_plan(stock, order_id, plan, HELD_UNTIL_SHIPPED, at)
        order = Order.place(
            id=order_id,
            tenant_id=tenant_id,
            number=number,
            customer_id=customer.customer_id,
            priced=priced,
            at=at,
            channel=Channel.POS,
            metadata={
                "pos": pos,
                "pos_order_id": pos_order.external_id,
                "pos_location_id": pos_order.location_id,
            },
            actor=ACTOR,
            fulfilment_plan=plan,
        )
        ledger = OrderLedger.start(tenant_id, order_id)
        payments: list[Payment] = []
        if paid.amount > 0:
            payments.append(_till_payment(order, ledger, pos_order, fees, pos, at))
            if order.status is OrderStatus.PAID:
                touched += take_lines(stock, order_id, lines, at, plan)
                ledger.record_taken(lines)
        await repo.save(
            order,
            ledger,
            *payments,
            *{item.id: item for item in touched}.values(),
            *customer.new,
            metadata=ctx.metadata(),
        )
        return order.customer_id

    try:
        used = await retry_on_conflict(attempt, ATTEMPTS)
    except NoFulfilmentPlanError as short:
        await customers.discard(None)
        return await _oversold(services, connection, pos_order, str(short))
    except Exception:
        await customers.discard(None)
        raise
    await customers.discard(used)
    if used is None:
        return await _apply_change(services, tenant_id, order_id, pos_order)
    return Outcome.IMPORTED


def _till_payment(
    order: Order,
    ledger: OrderLedger,
    pos_order: PosOrder,
    fees: FeeSchedule,
    pos: str,
    at: datetime,
) -> Payment:
    """The money taken at the till, as a captured payment of the whole order (one per
    order: its id is derived from the order's)."""
    amount = order.totals.total
    payment = Payment.create(
        uuid5(order.id, "till-payment"),
        order.tenant_id,
        order.id,
        amount,
        fees,
        at,
        TILL_METHOD,
        pos,
    )
    order.mark_paid(amount, payment.id, at, ACTOR)
    payment.charge(pos_order.tenders[0].tender_id, at)
    ledger.add_payment(payment.id)
    return payment


async def _oversold(
    services: PosImportServices, connection: PosConnection, pos_order: PosOrder, detail: str
) -> Outcome:
    oversell = Oversell(
        external_id=pos_order.external_id,
        location_id=pos_order.location_id,
        detail=detail,
        recorded_at=services.clock.now(),
    )
    await services.connections.record_oversell(connection.tenant_id, connection.pos, oversell)
    return Outcome.OVERSOLD


async def _apply_change(
    services: PosImportServices, tenant_id: str, order_id: UUID, pos_order: PosOrder
) -> Outcome:
    """A later version of an imported order: paid, refunded or cancelled at the till."""
    repo = services.repo
    fees = await services.fees(tenant_id)

    async def apply() -> Outcome:
        order = await load_order(repo, tenant_id, order_id)
        at = services.clock.now()
        metadata = CommandContext(tenant_id=tenant_id, actor=ACTOR).metadata()
        if order.status is OrderStatus.PENDING_PAYMENT and _paid(pos_order).amount > 0:
            # an open ticket paid later: the money recorded, the held stock taken
            ledger = await load_ledger(repo, order)
            pos = order.metadata.get("pos", "pos")
            payment = _till_payment(order, ledger, pos_order, fees, pos, at)
            touched, _note = await take_order_stock(repo, order, ledger, at)
            await repo.save(order, ledger, payment, *touched, metadata=metadata)
            return Outcome.UPDATED
        if pos_order.refunded.amount > order.refunded.amount:
            ledger = await load_ledger(repo, order)
            payments = await load_payments(repo, ledger)
            if not payments:
                return Outcome.UNCHANGED
            payment = payments[0]
            # keyed by the till's running refund total: a repeat finds it recorded
            refund_id = uuid5(order_id, f"till-refund:{pos_order.refunded.amount}")
            if has_refund(payment, refund_id):
                return Outcome.UNCHANGED
            amount = pos_order.refunded - order.refunded
            payment.refund(refund_id, amount, at, "refunded at the till")
            confirm_refund(payment, order, refund_id, RefundConfirmed(None, at, ACTOR))
            await repo.save(payment, order, metadata=metadata)
            return Outcome.UPDATED
        cancellable = order.status in (OrderStatus.PENDING_PAYMENT,)
        if pos_order.state is PosOrderState.CANCELED and cancellable:
            try:
                order.cancel("cancelled at the till", at, ACTOR)
            except DomainError:
                return Outcome.UNCHANGED
            stock = await load_stock(repo, tenant_id, [line.sku for line in order.lines])
            await repo.save(order, *release_lines(stock, order.id, at), metadata=metadata)
            return Outcome.UPDATED
        return Outcome.UNCHANGED

    return await retry_on_conflict(apply, ATTEMPTS)
