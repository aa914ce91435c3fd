"""Order use cases: place an order, read it, change its status, cancel it.

Placing an order prices it from the catalog (never from the caller), routes it
to the locations that ship it (``inventory.routing``, ADR 0031), holds its stock
there and records the order, its ledger, every touched stock item and a
newly registered customer in **one atomic append**. A lost race on a stock
item retries with fresh stock; the order number is allocated once, before.
A cash-on-delivery order holds its stock until it ships or is cancelled, not for
``reservation_minutes`` (its ``reservation_expires_at`` is ``None``). What an order
leaves out (its currency, how long to hold stock) comes from the tenant's
``OrderDefaults``, which also name the only currencies it may be placed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import msgspec

from commerce_core.catalog.product import Product
from commerce_core.catalog.services import products_for
from commerce_core.customers.email_claim import EmailTakenError
from commerce_core.customers.order_customers import CustomerRef, CustomerResolver
from commerce_core.eventstore import Repository
from commerce_core.eventstore.preloaded import preload
from commerce_core.inventory.location_services import tenant_locations
from commerce_core.inventory.order_stock import (
    HELD_UNTIL_SHIPPED,
    hold_plan,
    load_stock,
    sources_of,
)
from commerce_core.inventory.routing import plan_fulfilment
from commerce_core.inventory.stock import ReservationExistsError
from commerce_core.inventory.stock_streams import order_stock_streams
from commerce_core.inventory.stock_turns import in_turn
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.order import (
    Attribution,
    Channel,
    ImportedFrom,
    LineSpec,
    Order,
    PricedOrder,
    PricingError,
    price_order,
    shipping_price,
)
from commerce_core.ordering.order.attribution import check_attribution
from commerce_core.ordering.order.guards import check_metadata
from commerce_core.ordering.ports.order_numbers import OrderNumbers
from commerce_core.ordering.ports.shipping_prices import ShippingAsk, ShippingPrices
from commerce_core.shared.command_ids import new_id
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.loading import find_owned
from commerce_core.shared.money import Money, check_currency
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.sealing import seal_optional, unseal
from commerce_core.shared.values import Address, PaymentMethod, SkuQuantity, parse_enum

DEFAULT_RESERVATION_MINUTES = 30
MAX_RESERVATION_MINUTES = 7 * 24 * 60
# Many buyers of one hot SKU conflict on its stock item; each round one of them
# wins, so a burst of N buyers for the last K units needs about K + 1 rounds.
PLACE_ORDER_ATTEMPTS = 16

__all__ = [
    "DEFAULT_RESERVATION_MINUTES",
    "CustomerRef",
    "OrderDefaults",
    "OrderServices",
    "PlaceOrder",
    "get_order",
    "order_addresses",
    "place_order",
    "price_lines",
]


@dataclass(frozen=True, kw_only=True)
class OrderServices:
    """The ports placing an order needs."""

    repo: Repository
    clock: Clock
    ids: Ids
    order_numbers: OrderNumbers
    keyring: Keyring
    shipping: ShippingPrices | None = None
    """Zones and quotes (ADR 0029); ``None``: the flat table only."""


@dataclass(frozen=True, kw_only=True)
class OrderDefaults:
    """A tenant's order settings: what an order that names no currency or reservation
    time gets, and the currencies orders may be in (empty: any)."""

    currency: str = "USD"
    reservation_minutes: int = DEFAULT_RESERVATION_MINUTES
    accepted_currencies: tuple[str, ...] = ()

    def currency_of(self, given: str | None) -> str:
        """The order's currency: the one given, else the default; one the tenant does
        not accept is refused (``InvalidValueError``)."""
        currency = check_currency(given or self.currency)
        if self.accepted_currencies and currency not in self.accepted_currencies:
            raise InvalidValueError(
                f"this shop takes orders in {', '.join(self.accepted_currencies)} only,"
                f" not {currency}"
            )
        return currency


class PlaceOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /orders``: who orders what, in which currency, sent where and how.

    Without ``currency`` the tenant's ``default_currency`` applies; without
    ``reservation_minutes`` the tenant's ``reservation_minutes`` (30 unless changed)."""

    customer: CustomerRef
    lines: list[SkuQuantity]
    currency: str | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping_method: str | None = None
    shipping_quote_id: UUID | None = None
    payment_method: PaymentMethod | None = None
    channel: Channel = Channel.API
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    reservation_minutes: int | None = None
    attribution: Attribution | None = None


def price_lines(
    products: Mapping[str, Product],
    lines: Sequence[SkuQuantity],
    currency: str,
    shipping_method: str | None = None,
    shipping: Money | None = None,
) -> PricedOrder:
    """The lines priced at the catalog's prices; ``PricingError`` when a product is priced
    in another currency than the order's (or a SKU appears twice, or there are no lines).
    Shipping is ``shipping`` when given, else the flat table's price of ``shipping_method``."""
    check_currency(currency)
    specs = []
    for line in lines:
        product = products[line.sku]
        if product.price.currency != currency:
            raise PricingError(
                f"{line.sku} is priced in {product.price.currency}, the order is in {currency}"
            )
        specs.append(
            LineSpec(
                sku=line.sku,
                name=product.name,
                quantity=line.quantity,
                unit_price=product.price,
                tax_rate_bps=product.tax_rate_bps,
            )
        )
    if shipping is None:
        shipping = shipping_price(shipping_method, currency)
    return price_order(specs, currency, shipping=shipping)


async def price_with_shipping(
    shipping: ShippingPrices | None,
    tenant_id: str,
    products: Mapping[str, Product],
    command: PlaceOrder,
    currency: str,
) -> tuple[PricedOrder, str | None]:
    """The order priced with its shipping, and the shipping method it records: from the
    tenant's zones or a quote when ``shipping`` decides, else from the flat table."""
    lines = command.lines
    goods = price_lines(products, lines, currency)
    ask = ShippingAsk(
        lines=lines,
        currency=currency,
        subtotal=goods.totals.subtotal - goods.totals.discount,
        address=command.shipping_address,
        method=command.shipping_method,
        quote_id=command.shipping_quote_id,
    )
    chosen = await shipping.price(tenant_id, ask) if shipping is not None else None
    if chosen is None:
        if command.shipping_quote_id is not None:
            raise InvalidValueError("shipping quotes are not available here")
        method = command.shipping_method
        return price_lines(products, lines, currency, method), method
    return price_lines(products, lines, currency, shipping=chosen.price), chosen.method


async def place_order(
    services: OrderServices,
    ctx: CommandContext,
    command: PlaceOrder,
    defaults: OrderDefaults = OrderDefaults(),
    imported: ImportedFrom | None = None,
) -> Order:
    """Places an order in ``pending_payment`` holding its stock for ``reservation_minutes``
    (a cash-on-delivery order: until it ships or is cancelled); ``imported`` names the
    outside channel's order it is (``processes.channel_imports``).

    Refusals record nothing: ``UnknownProductError``, ``PricingError`` /
    ``InvalidValueError``, ``NoFulfilmentPlanError`` (an ``InsufficientStockError``:
    the locations that ship lack units of some SKUs), customer errors (blocked, erased, not found).
    With an idempotency key, placing again returns the order placed first.
    """
    clock, ids, keyring = services.clock, services.ids, services.keyring
    order_id = new_id(ctx, ids, "order")
    ref = command.customer.checked()
    minutes = command.reservation_minutes
    if minutes is None:
        minutes = defaults.reservation_minutes
    if not 0 < minutes <= MAX_RESERVATION_MINUTES:
        raise InvalidValueError(f"reservation_minutes must be 1 to {MAX_RESERVATION_MINUTES}")
    check_metadata(command.metadata)
    check_attribution(command.attribution)
    channel = parse_enum(Channel, command.channel)
    # The number first: the stock read below then comes as late as it can before the
    # append, and fewer concurrent orders of a SKU lose the race for its stock item. A
    # command refused below (or a retried one) leaves a gap in the numbers, never a repeat.
    number = await services.order_numbers.next(ctx.tenant_id)
    # every aggregate the first attempt needs, in one read (ADR 0044)
    repo = await preload(services.repo, _streams(services, ctx, command, order_id))
    if ctx.idempotency_key is not None:
        placed = await find_owned(repo, ctx.tenant_id, order_id, Order)
        if placed is not None:
            return placed
    products = await products_for(repo, ctx.tenant_id, [line.sku for line in command.lines])
    currency = defaults.currency_of(command.currency)
    shipping = None if services.shipping is None else services.shipping.reading(repo)
    priced, shipping_method = await price_with_shipping(
        shipping, ctx.tenant_id, products, command, currency
    )
    # A new customer's id is fresh even with an idempotency key: requests sharing a key
    # (concurrent channel imports of one order) must not share a data key that the loser
    # forgets (``CustomerResolver.discard``) while the winner's customer uses it.
    customers = CustomerResolver(repo, keyring, ctx.tenant_id, ids.new_id())
    cash_on_delivery = command.payment_method == PaymentMethod.CASH_ON_DELIVERY
    locations = await tenant_locations(repo, ctx.tenant_id)

    async def attempt() -> Order:
        if ctx.idempotency_key is not None:
            placed = await find_owned(repo, ctx.tenant_id, order_id, Order)
            if placed is not None:
                return placed  # the same command, saved concurrently
        at = clock.now()
        expires = None if cash_on_delivery else at + timedelta(minutes=minutes)
        try:
            customer = await customers.resolve(ref, at)
            stock = await load_stock(repo, ctx.tenant_id, products)
            sources = sources_of(stock, locations, at)
            plan = plan_fulfilment(command.lines, sources, command.shipping_address)
            items = hold_plan(stock, order_id, plan, expires or HELD_UNTIL_SHIPPED, at)
        except (ReservationExistsError, EmailTakenError):
            # The same command saved its order (its holds, the customer it registered)
            # since this attempt read its state: concurrent requests sharing a key (channel
            # imports of one outside order) all read before the first one saved.
            placed = await _placed_meanwhile(services.repo, ctx, order_id)
            if placed is None:
                raise
            return placed
        key = customer.customer_id
        addressed = command.shipping_address or command.billing_address
        sealing = await keyring.holding([key]) if addressed else keyring  # one key lookup
        order = Order.place(
            id=order_id,
            tenant_id=ctx.tenant_id,
            number=number,
            customer_id=key,
            priced=priced,
            at=at,
            channel=channel,
            shipping_address=await seal_optional(
                sealing, key, "shipping_address", command.shipping_address
            ),
            billing_address=await seal_optional(
                sealing, key, "billing_address", command.billing_address
            ),
            shipping_method=shipping_method,
            payment_method=command.payment_method,
            metadata=command.metadata,
            reservation_expires_at=expires,
            actor=ctx.actor,
            fulfilment_plan=plan,
            attribution=command.attribution,
            imported=imported,
        )
        ledger = OrderLedger.start(ctx.tenant_id, order_id)
        await repo.save(
            order,
            ledger,
            *items,
            *customer.new,
            metadata=ctx.metadata(),
            idempotency_key=ctx.idempotency_key,
        )
        return order

    try:
        in_stock_turn = in_turn(ctx.tenant_id, products, attempt)  # queue, don't race (ADR 0046)
        order = await retry_on_conflict(in_stock_turn, PLACE_ORDER_ATTEMPTS)
    except Exception:
        await customers.discard(None)
        raise
    await customers.discard(order.customer_id)
    return order


def _streams(
    services: OrderServices, ctx: CommandContext, command: PlaceOrder, order_id: UUID
) -> list[UUID]:
    """What placing the order reads before its append: the order itself (a retried
    command), the products, stock and locations of its SKUs, its customer when named by
    id, and what its shipping is priced from. A customer named by email is looked up
    by the email's blind index, then loaded: those reads stay where they are."""
    skus = [line.sku for line in command.lines]
    streams = [order_id] if ctx.idempotency_key is not None else []
    streams += [Product.id_for(ctx.tenant_id, sku) for sku in skus]
    streams += order_stock_streams(ctx.tenant_id, skus)
    if command.customer.id is not None:
        streams.append(command.customer.id)
    if services.shipping is not None:
        streams += services.shipping.streams(ctx.tenant_id, command.shipping_quote_id)
    return streams


async def _placed_meanwhile(repo: Repository, ctx: CommandContext, order_id: UUID) -> Order | None:
    if ctx.idempotency_key is None:
        return None
    return await find_owned(repo, ctx.tenant_id, order_id, Order)


async def get_order(repo: Repository, tenant_id: str, order_id: UUID) -> Order:
    """The order; ``AggregateNotFoundError`` if it is not one of ``tenant_id``'s."""
    return await load_order(repo, tenant_id, order_id)


async def order_addresses(keyring: Keyring, order: Order) -> tuple[Address | None, Address | None]:
    """The order's shipping and billing addresses, opened; ``None`` when absent or erased."""
    sealed = (order.shipping_address, order.billing_address)
    keyring = await keyring.holding(s.key_id for s in sealed if s is not None)
    return (
        await unseal(keyring, order.shipping_address, "shipping_address", Address),
        await unseal(keyring, order.billing_address, "billing_address", Address),
    )
