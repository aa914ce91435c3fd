"""Orders sold on a channel without an adapter (Google Business Profile, marketplaces), imported.

``POST /channels/{channel}/orders`` (ADR 0033). An imported order is an ordinary order:
priced from the catalog, its stock reserved from our one store, then paid by what the
channel collected.

- **Once per outside order.** The order's id derives from (tenant, channel, external id),
  so the same outside order imported twice, one after the other or at once, is one
  order stream: the first append wins, the other finds it. The order records a digest of
  what was imported; the same id with another body is refused (``ImportConflictError``).
  The request that created the order is the one that answers "created".
- **Catalog prices, the channel's money.** Lines are recorded at our catalog prices (the
  totals and analytics of every channel stay comparable); ``paid`` is recorded as one
  payment received outside a card gateway (method ``bank_transfer``: the channel pays
  us out; its ``gateway`` is the channel, its reference the external id), so the order
  is paid and its stock taken. ``paid`` above the order's total is refused before
  anything is recorded; less leaves the rest owed. Refunds made on the channel are
  recorded by hand (``manual_payments.record_manual_refund``).
- **Stock.** Not enough stock refuses the import (``InsufficientStockError``, 409, nothing
  recorded): the channel's listing oversold what we hold, and the integration cancels or
  re-sources the sale there. Unlike a till sale (already handed over), a channel order
  has not shipped yet.
- ``placed_at`` is when the channel took the order: at most ``MAX_FUTURE_SKEW`` ahead of
  our clock and at most ``MAX_IMPORT_AGE`` old.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec

from commerce_core.catalog.services import products_for
from commerce_core.customers.order_customers import CustomerRef
from commerce_core.eventstore import Repository
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.money_received import take_order_stock
from commerce_core.ordering.order import (
    Attribution,
    Channel,
    ImportChannel,
    ImportedFrom,
    Order,
    OrderStatus,
)
from commerce_core.ordering.services import (
    OrderDefaults,
    OrderServices,
    PlaceOrder,
    place_order,
    price_lines,
)
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.payments.reference import PaymentReference
from commerce_core.shared.command_ids import new_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.loading import find_owned
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Ids
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import Address, PaymentMethod, SkuQuantity

MAX_FUTURE_SKEW = timedelta(minutes=5)
MAX_IMPORT_AGE = timedelta(days=365)
_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/channel-imports")
# An imported order is not waiting for a shopper: its stock is held a week for ``paid``
# to arrive if it was not sent (the tenant's expiry job then releases it).
IMPORT_RESERVATION_MINUTES = 7 * 24 * 60


class ImportOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order sold on ``channel``: what it sold, to whom, and what the channel collected."""

    channel: ImportChannel
    external_id: str
    lines: list[SkuQuantity]
    customer: CustomerRef
    placed_at: datetime
    shipping_address: Address | None = None
    paid: Money | None = None
    attribution: Attribution | None = None


class ImportConflictError(DomainError):
    """The outside order was imported before with other contents."""

    def __init__(self, channel: ImportChannel, external_id: str, order: Order) -> None:
        super().__init__(
            f"{channel} order {external_id!r} was imported already as order {order.number}"
            " with other contents; send the same body again, or change the order with"
            f" PATCH /orders/{order.id}"
        )
        self.order_id = order.id


@dataclass(frozen=True)
class Imported:
    """The order and whether this request created it (else it was imported before)."""

    order: Order
    created: bool


def import_context(ctx: CommandContext, channel: ImportChannel, external_id: str) -> CommandContext:
    """The caller's context keyed by the outside order: ``place_order`` then derives the
    order's id (and a new customer's) from (tenant, channel, external id), the same for
    every import of it, and a concurrent import loses the append and finds the order."""
    return dataclasses.replace(ctx, idempotency_key=f"channel-import\x00{channel}\x00{external_id}")


def imported_order_id(
    ctx: CommandContext, ids: Ids, channel: ImportChannel, external_id: str
) -> UUID:
    """The id of the order an outside order becomes (derived: ``ids`` is never asked)."""
    return new_id(import_context(ctx, channel, external_id), ids, "order")


def import_digest(channel: ImportChannel, command: ImportOrder) -> str:
    """What identifies the body of an import: its fields, ``placed_at`` in UTC."""
    placed = command.placed_at.astimezone(UTC)
    canonical = msgspec.json.encode(
        [str(channel), msgspec.structs.replace(command, placed_at=placed)]
    )
    return hashlib.sha256(canonical).hexdigest()


def check_placed_at(placed_at: datetime, now: datetime) -> None:
    """``InvalidValueError`` unless ``placed_at`` is aware, not ahead of ``now`` by more than
    ``MAX_FUTURE_SKEW`` and not older than ``MAX_IMPORT_AGE``."""
    if placed_at.utcoffset() is None:
        raise InvalidValueError("placed_at needs a time zone offset (e.g. 2026-03-14T09:12:00Z)")
    if placed_at > now + MAX_FUTURE_SKEW:
        raise InvalidValueError(f"placed_at {placed_at.isoformat()} is in the future")
    if placed_at < now - MAX_IMPORT_AGE:
        raise InvalidValueError(
            f"placed_at {placed_at.isoformat()} is more than {MAX_IMPORT_AGE.days} days ago"
        )


async def import_channel_order(
    services: OrderServices,
    ctx: CommandContext,
    command: ImportOrder,
    defaults: OrderDefaults,
    fees: FeeSchedule,
) -> Imported:
    """Imports the outside order once (see the module's docstring); refusals record nothing:
    ``InvalidValueError`` (``placed_at``, ``paid``), ``ImportConflictError``, and those of
    ``place_order``."""
    repo, channel = services.repo, command.channel
    order_id = imported_order_id(ctx, services.ids, channel, command.external_id)
    digest = import_digest(channel, command)
    order = await find_owned(repo, ctx.tenant_id, order_id, Order)
    created = False
    if order is None:
        check_placed_at(command.placed_at, services.clock.now())
        order, created = await _place(services, ctx, channel, command, defaults, digest)
    if order.imported is None or order.imported.digest != digest:
        raise ImportConflictError(channel, command.external_id, order)
    if command.paid is not None:
        order = await _record_paid(repo, ctx, order, command.paid, fees, services.clock.now())
    return Imported(order, created)


async def _place(
    services: OrderServices,
    ctx: CommandContext,
    channel: ImportChannel,
    command: ImportOrder,
    defaults: OrderDefaults,
    digest: str,
) -> tuple[Order, bool]:
    currency = defaults.currency_of(command.paid.currency if command.paid else None)
    products = await products_for(
        services.repo, ctx.tenant_id, [line.sku for line in command.lines]
    )
    total = price_lines(products, command.lines, currency).totals.total
    if command.paid is not None and command.paid.amount > total.amount:
        raise InvalidValueError(
            f"paid {command.paid.amount} is more than the order's total {total.amount}"
            f" {currency} at catalog prices; send what the order costs here"
        )
    request_id = str(services.ids.new_id())
    imported = ImportedFrom(
        channel=channel,
        external_id=command.external_id,
        placed_at=command.placed_at,
        digest=digest,
        request_id=request_id,
    )
    place = PlaceOrder(
        customer=command.customer,
        lines=command.lines,
        currency=currency,
        shipping_address=command.shipping_address,
        channel=Channel.GBP if channel is ImportChannel.GBP else Channel.API,
        reservation_minutes=IMPORT_RESERVATION_MINUTES,
        attribution=command.attribution,
    )
    keyed = import_context(ctx, channel, command.external_id)
    placed = await place_order(services, keyed, place, defaults, imported)
    # A concurrent import with the same key may have "saved" too (same event ids: stored
    # once); the stored order names the request that created it.
    order = await load_order(services.repo, ctx.tenant_id, placed.id)
    return order, order.imported is not None and order.imported.request_id == request_id


async def _record_paid(
    repo: Repository,
    ctx: CommandContext,
    order: Order,
    paid: Money,
    fees: FeeSchedule,
    at: datetime,
) -> Order:
    """Records what the channel collected as one payment, once: its id derives from the
    order's, so a second import (or a concurrent one) finds it recorded."""
    payment_id = uuid5(_NAMESPACE, f"{order.id}:paid")
    assert order.imported is not None
    channel, reference = str(order.imported.channel), order.imported.external_id

    async def record() -> Order:
        current = await load_order(repo, ctx.tenant_id, order.id)
        if current.received_from(payment_id).amount or paid.amount == 0:
            return current
        ledger = await load_ledger(repo, current)
        payment = Payment.create(
            payment_id,
            ctx.tenant_id,
            current.id,
            paid,
            fees,
            at,
            PaymentMethod.BANK_TRANSFER,
            channel,
        )
        current.mark_paid(paid, payment_id, at, ctx.actor)
        payment.charge(reference, at)
        ledger.add_payment(payment_id)
        touched: list[StockItem] = []
        if current.status is OrderStatus.PAID:
            touched, _ = await take_order_stock(repo, current, ledger, at)
        link = PaymentReference.link(ctx.tenant_id, channel, reference, payment_id)
        await repo.save(payment, current, ledger, link, *touched, metadata=ctx.metadata())
        return current

    return await retry_on_conflict(record)
