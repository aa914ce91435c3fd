"""An order's stock: hold its lines across locations, then release, take or put back units.

Stock items are loaded per SKU (``load_stock``), changed in memory by the
functions below, and saved by the caller together with the order, in one
append. A function that raises may have changed some items already: the
caller discards them (it reloads on the next attempt).

Rules:
- A new order holds its lines where its fulfilment plan puts them
  (``hold_plan``; ``routing`` makes the plan). Holding again keeps each line's
  units at the locations that held them; units not held before are held
  **first-fit over the SKU's locations** in the order they first received stock
  (``SkuLocations``), splitting a line where one location lacks units.
  ``InsufficientStockError`` names the SKU, the units asked for and the units
  available at all its locations together.
- An order holds at most one reservation per stock item. Holding again (a
  longer hold once a payment is authorized, or a fresh hold after the expiry
  job released the first) releases what it held and reserves anew.
- Taking (the order is paid) commits the order's reservations; when they no
  longer cover a line (released, or expired), the line is held anew first, so
  payment takes whatever is available rather than failing on a stale hold.
- Units go back (cancel, refund with restock) to the location the plan first ships
  the SKU from, else to the SKU's first location.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.inventory.location_book import Location
from commerce_core.inventory.routing import PlannedShipment, Source
from commerce_core.inventory.services import stock_items_of
from commerce_core.inventory.stock import InsufficientStockError, StockItem
from commerce_core.inventory.stock_turns import STOCK_TURNS
from commerce_core.shared.values import SkuQuantity

HELD_UNTIL_SHIPPED = datetime.max.replace(tzinfo=UTC)
"""How long a cash-on-delivery order holds its stock: until it ships or is cancelled."""

Stock = dict[str, list[StockItem]]
"""The stock items of each SKU, in location order."""

# A hold made only to be committed in the same append still needs an expiry.
_MOMENT = timedelta(minutes=1)


async def load_stock(repo: Repository, tenant_id: str, skus: Iterable[str]) -> Stock:
    """The SKUs' stock items; in the SKUs' turn (``stock_turns``), as the turn's last holder
    saved them when it kept them, else read (and kept for the next holder)."""
    wanted = list(dict.fromkeys(skus))
    kept = {sku: STOCK_TURNS.kept(tenant_id, sku) for sku in wanted}
    if all(items is not None for items in kept.values()):
        return {sku: list(items) for sku, items in kept.items() if items is not None}
    stock = await stock_items_of(repo, tenant_id, wanted)
    for sku, items in stock.items():
        if items:
            STOCK_TURNS.keep(tenant_id, sku, items)
    return stock


def _unique(items: Iterable[StockItem]) -> list[StockItem]:
    return list({item.id: item for item in items}.values())


def _held_until(items: Sequence[StockItem], order_id: UUID, at: datetime) -> datetime | None:
    """When the order's hold on these items ends, if it is live on all of them."""
    holds = [r for item in items if (r := item.reservation(order_id)) is not None]
    if not holds or not all(r.is_active(at) for r in holds):
        return None
    return min(r.expires_at for r in holds)


def _held_quantity(items: Sequence[StockItem], order_id: UUID) -> int:
    return sum(r.quantity for item in items if (r := item.reservation(order_id)) is not None)


@dataclass(frozen=True)
class OrderHold:
    """What an order holds: its lines, and where its fulfilment plan puts them (if it has one)."""

    order_id: UUID
    lines: Sequence[SkuQuantity]
    plan: Sequence[PlannedShipment] = ()


def hold_lines(stock: Stock, hold: OrderHold, until: datetime, at: datetime) -> list[StockItem]:
    """Makes the order hold every line until at least ``until``; returns the items changed.

    A line already held in full until then is left alone. Units go where ``hold.plan`` (the
    order's fulfilment plan) puts them, else where they were held, then first-fit.
    """
    order_id, lines = hold.order_id, hold.lines
    planned = _by_sku(hold.plan)
    touched: list[StockItem] = []
    for line in lines:
        items = stock.get(line.sku, [])
        held_until = _held_until(items, order_id, at)
        if _held_quantity(items, order_id) == line.quantity and held_until and held_until >= until:
            continue
        previous: dict[UUID, int] = {}
        for item in items:
            if (held := item.reservation(order_id)) is not None:
                previous[item.id] = held.quantity
                item.release(order_id, at)
                touched.append(item)
        available = sum(max(item.available(at), 0) for item in items)
        if available < line.quantity:
            raise InsufficientStockError(line.sku, line.quantity, available)
        if line.sku in planned:
            where = planned[line.sku]
            previous = {item.id: where.get(item.location_id, 0) for item in items}
        for item, part in _spread(items, line.quantity, previous, at):
            item.reserve(order_id, part, until, at)
            touched.append(item)
    return _unique(touched)


def _by_sku(plan: Sequence[PlannedShipment]) -> dict[str, dict[str, int]]:
    """The plan as SKU -> location -> units."""
    planned: dict[str, dict[str, int]] = {}
    for shipment in plan:
        for line in shipment.lines:
            planned.setdefault(line.sku, {})[shipment.location_id] = line.quantity
    return planned


def _spread(
    items: Sequence[StockItem], quantity: int, previous: Mapping[UUID, int], at: datetime
) -> list[tuple[StockItem, int]]:
    """Where ``quantity`` units go: back where they were held (``previous``: the order's
    fulfilment plan), then first-fit."""
    parts = dict.fromkeys((item.id for item in items), 0)
    left = quantity
    for first_pass in (True, False):
        for item in items:
            cap = item.available(at)
            if first_pass:
                cap = min(cap, previous.get(item.id, 0))
            part = min(left, cap - parts[item.id])
            if part > 0:
                parts[item.id] += part
                left -= part
    return [(item, parts[item.id]) for item in items if parts[item.id] > 0]


def sources_of(stock: Stock, declared: Mapping[str, Location], at: datetime) -> list[Source]:
    """Every location holding the SKUs of ``stock``, as routing sees it at ``at``."""
    available: dict[str, dict[str, int]] = {}
    for items in stock.values():
        for item in items:
            available.setdefault(item.location_id, {})[item.sku] = item.available(at)
    sources = []
    for location_id, units in available.items():
        location = declared.get(location_id)
        if location is None:
            sources.append(Source(location_id=location_id, available=units))
        else:
            sources.append(
                Source(
                    location_id=location_id,
                    available=units,
                    address=location.address,
                    ships=location.ships,
                    priority=location.priority,
                )
            )
    return sources


def hold_plan(
    stock: Stock, order_id: UUID, plan: Sequence[PlannedShipment], until: datetime, at: datetime
) -> list[StockItem]:
    """Makes a new order hold each planned line at its planned location; returns the items."""
    touched = []
    for shipment in plan:
        for line in shipment.lines:
            item = next(i for i in stock[line.sku] if i.location_id == shipment.location_id)
            item.reserve(order_id, line.quantity, until, at)
            touched.append(item)
    return touched


def take_lines(
    stock: Stock,
    order_id: UUID,
    lines: Sequence[SkuQuantity],
    at: datetime,
    plan: Sequence[PlannedShipment] = (),
) -> list[StockItem]:
    """Deducts the order's lines from on hand (it is paid); returns the items changed.
    A line no longer held is held anew first, where ``plan`` puts it if it can."""
    touched: list[StockItem] = []
    for line in lines:
        items = stock.get(line.sku, [])
        if not (
            _held_quantity(items, order_id) == line.quantity and _held_until(items, order_id, at)
        ):
            again = OrderHold(order_id, [line], plan)
            touched += hold_lines({line.sku: items}, again, at + _MOMENT, at)
        for item in items:
            if item.reservation(order_id) is not None:
                item.commit(order_id, at)
                touched.append(item)
    return _unique(touched)


def release_lines(
    stock: Stock, order_id: UUID, at: datetime, expired_only: bool = False
) -> list[StockItem]:
    """Drops the order's reservations (only those expired at ``at`` if ``expired_only``)."""
    touched = []
    for items in stock.values():
        for item in items:
            reservation = item.reservation(order_id)
            if reservation is None or (expired_only and reservation.is_active(at)):
                continue
            item.release(order_id, at)
            touched.append(item)
    return touched


def put_back(
    stock: Stock,
    order_id: UUID,
    lines: Sequence[SkuQuantity],
    at: datetime,
    plan: Sequence[PlannedShipment] = (),
) -> list[StockItem]:
    """Restores the lines' units where ``plan`` first ships the SKU from (the location
    they left), else at the SKU's first location."""
    planned = _by_sku(plan)
    touched = []
    for line in lines:
        items = stock.get(line.sku, [])
        if not items:
            continue  # never stocked, so nothing was taken either
        first = next(iter(planned.get(line.sku, {})), None)
        item = next((i for i in items if i.location_id == first), items[0])
        item.restore(line.quantity, at, order_id)
        touched.append(item)
    return _unique(touched)
